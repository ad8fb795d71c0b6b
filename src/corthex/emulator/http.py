"""Small HTTP helpers shared by the provider routes."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from corthex.emulator.errors import EmulatorError

BIG_BODY = 1 << 20  # parse bodies above this off the event loop


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


async def read_json(request: Request, provider: str, *, max_bytes: int | None = None) -> Any:
    """The request body as JSON; an empty body is `{}`."""
    raw = await request.body()
    if max_bytes is not None and len(raw) > max_bytes:
        if provider == "anthropic":  # the wording of Anthropic's errors page for 413 request_too_large
            raise EmulatorError(provider, 413, "Request exceeds the maximum allowed number of bytes.")
        raise EmulatorError(provider, 400, f"Request body is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    if not raw.strip():
        return {}
    try:
        if len(raw) > BIG_BODY:
            return await asyncio.to_thread(orjson.loads, raw)
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EmulatorError(provider, 400, f"Invalid JSON body: {exc}") from None


def query_int(request: Request, provider: str, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EmulatorError(provider, 400, f"Invalid '{name}': expected an integer.", param=name) from None
    if not low <= value <= high:
        raise EmulatorError(provider, 400, f"Invalid '{name}': must be between {low} and {high}.", param=name)
    return value


def public_root(request: Request, configured: str | None) -> str:
    """The emulator's root URL as the client sees it (for absolute URLs we hand out)."""
    if configured:
        return configured.rstrip("/")
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"
