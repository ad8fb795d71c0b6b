"""A fake Telegram Bot API server for tests: FastAPI + uvicorn on 127.0.0.1 in a thread.

It serves what python-telegram-bot calls (getMe, getUpdates with a short long-poll, sendMessage,
deleteWebhook, set/getMyCommands, close, logOut), checks the token, and checks every HTML message
the way Telegram does: only its tags, balanced; `<`, `>` and `&` escaped; at most 4096 characters
after entity parsing. Tests inject updates with `message()` and read what the bot sent.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from corthex.testing import wait_until

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
TOKEN_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|[<>&]")
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "CORTHEX", "username": "corthex_test_bot"}
LONG_POLL_CAP = 0.3  # seconds: keeps the bot's shutdown and the server's quick


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str | None, str]:
    """(error or None, visible text) of a message sent with parse_mode=HTML, as Telegram would."""
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    for match in TOKEN_RE.finditer(text):
        visible.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in "<>&":
            return f"Bad Request: can't parse entities: unescaped {token!r} at offset {match.start()}", ""
        if match.group(4):
            visible.append(html.unescape(token))
            continue
        closing, tag = match.group(1), match.group(2).lower()
        if tag not in TAGS:
            return f"Bad Request: can't parse entities: unsupported start tag {tag!r}", ""
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            return f"Bad Request: can't parse entities: can't find end tag corresponding to {tag!r}", ""
    visible.append(text[pos:])
    if stack:
        return f"Bad Request: can't parse entities: unclosed tag {stack[-1]!r}", ""
    return None, "".join(visible)


@dataclass
class Sent:
    chat_id: int
    text: str  # as sent (HTML); after an edit, as edited
    parse_mode: str | None
    visible: str  # as the user sees it
    message_id: int = 0
    edits: int = 0  # how many times editMessageText replaced it


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.port = 0
        self.sent: list[Sent] = []
        self.calls: list[str] = []  # every method called, in order
        self.commands: list[dict[str, Any]] = []
        self.edits: list[tuple[int, int]] = []  # (chat, message id) of every editMessageText, in order
        self.fail_chats: set[int] = set()  # sendMessage to these answers 400 "chat not found"
        self.flood: list[float] = []  # the next sendMessages answer 429 "retry after" these seconds
        self._updates: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._next_update = 1
        self._next_message = 1
        self.app = FastAPI()
        self.app.post("/bot{token}/{method}")(self._endpoint)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeBotApi:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", ws="none", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "fake Bot API did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    # -- test side --------------------------------------------------------------------------------

    def message(self, chat_id: int, text: str, language_code: str | None = None) -> int:
        """Queue a text message from `chat_id` (a private chat); commands get their entity; the
        sender's `language_code` (their Telegram app's language) when given."""
        with self._lock:
            update_id, message_id = self._next_update, self._next_message
            self._next_update += 1
            self._next_message += 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "CEO"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "CEO"},
                "text": text,
            }
            if language_code is not None:
                message["from"]["language_code"] = language_code
            command = re.match(r"/[A-Za-z0-9_]{1,32}(@\w+)?", text)  # Telegram marks only ASCII commands
            if command:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
            self._updates.append({"update_id": update_id, "message": message})
        return update_id

    def to(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.chat_id == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [s.visible for s in self.to(chat_id)]

    async def wait_for(self, check: Callable[[], Any], within: float = 30, what: str = "") -> Any:
        """Wait until `check()` returns something truthy; returns it. A timeout shows what was sent."""
        try:
            return await wait_until(check, within=within, what=what, every=0.02)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; sent: {[s.visible[:80] for s in self.sent]}") from None

    # -- the Bot API ------------------------------------------------------------------------------

    async def _endpoint(self, token: str, method: str, request: Request) -> JSONResponse:
        if token != self.token:
            return _error(401, "Unauthorized")
        params = dict(await request.form())
        with self._lock:
            self.calls.append(method)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return await handler(params)

    async def _api_getMe(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802 - Bot API names
        return _ok(
            {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _api_getUpdates(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones go
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.01)

    async def _api_sendMessage(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        chat_id, text = int(params["chat_id"]), str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        error, visible = _checked(text, parse_mode)
        if error:
            return _error(400, error)
        if chat_id in self.fail_chats:
            return _error(400, "Bad Request: chat not found")
        with self._lock:
            wait = self.flood.pop(0) if self.flood else None
        if wait is not None:
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                },
                status_code=429,
            )
        with self._lock:
            message_id = self._next_message
            self._next_message += 1
            self.sent.append(Sent(chat_id, text, parse_mode, visible, message_id))
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private", "first_name": "CEO"},
                "text": visible,
            }
        )

    async def _api_editMessageText(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        """As Telegram: only the bot's own message in that chat, valid HTML, and a changed text."""
        chat_id, message_id, text = int(params["chat_id"]), int(params["message_id"]), str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        error, visible = _checked(text, parse_mode)
        if error:
            return _error(400, error)
        with self._lock:
            found = [s for s in self.sent if s.chat_id == chat_id and s.message_id == message_id]
            if not found:
                return _error(400, "Bad Request: message to edit not found")
            if found[0].text == text:
                return _error(400, "Bad Request: message is not modified")
            found[0].text, found[0].visible, found[0].parse_mode = text, visible, parse_mode
            found[0].edits += 1
            self.edits.append((chat_id, message_id))
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "edit_date": int(time.time()),
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private", "first_name": "CEO"},
                "text": visible,
            }
        )

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        return _ok(True)

    async def _api_setMyCommands(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        import json

        self.commands = json.loads(params.get("commands", "[]"))
        return _ok(True)

    async def _api_getMyCommands(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        return _ok(self.commands)

    async def _api_close(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(True)

    async def _api_logOut(self, params: dict[str, Any]) -> JSONResponse:  # noqa: N802
        return _ok(True)


def _checked(text: str, parse_mode: Any) -> tuple[str | None, str]:
    """(error or None, visible text) of a message's text as Telegram checks it."""
    error, visible = parse_html(text) if parse_mode == "HTML" else (None, text)
    if error:
        return error, ""
    if not visible.strip():
        return "Bad Request: message text is empty", ""
    if utf16_len(visible) > 4096:
        return "Bad Request: message is too long", ""
    return None, visible


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)
