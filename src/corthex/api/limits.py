"""Request body limits, enforced while the body streams in (a Content-Length is not trusted):
413 before the application reads more than the limit."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024
UPLOAD_LIMIT = 50 * MB  #: JSONL files and request lists
COMMAND_LIMIT = 64 * 1024  #: chain commands
DEFAULT_LIMIT = 1 * MB  #: everything else (webhooks, small bodies)

DEFAULT_RULES: tuple[tuple[str, int], ...] = (
    ("/jobs", UPLOAD_LIMIT),
    ("/queue", UPLOAD_LIMIT),
    ("/chains", COMMAND_LIMIT),
)


class TooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing passes it on as a 413 (not a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit here is {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, rules: Sequence[tuple[str, int]] = DEFAULT_RULES) -> None:
        self.app, self.rules = app, rules

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.rules:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return DEFAULT_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, limit)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except TooLarge:
            if not started:
                await _reject(send, limit)


async def _reject(send: Send, limit: int) -> None:
    body = orjson.dumps({"detail": f"request body too large: the limit here is {limit} bytes"})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
