"""/ws: live events. The client may send {"since": seq, "epoch": …} (on connect or at any time)
and gets the events it missed and then a `synced` message, or a `snapshot` of the current state
when they are gone (or on a first connect). Events: {"seq", "type", "data", "at"}. A bad message
gets an `error` message back; the connection stays open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from corthex.api import views
from corthex.api.auth import token_matches, websocket_token
from corthex.api.events import Listener
from corthex.api.state import ServerState, ws_state

log = logging.getLogger(__name__)
router = APIRouter()
FIRST_MESSAGE_WAIT = 1.0  # a client that says nothing gets live events after this


class Connection:
    def __init__(self, websocket: WebSocket, state: ServerState, listener: Listener) -> None:
        self.ws, self.state, self.listener = websocket, state, listener
        self.last_sent = state.hub.seq  # live events start after what existed at connect
        self.lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self._send(message)

    async def _send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(self.state.hub.encode(message))

    async def resume(self, since: int | None, epoch: str | None) -> None:
        """Send what the client missed after `since`, or a snapshot when that is not possible.
        Holds the lock throughout, so live events cannot interleave with the replay."""
        hub = self.state.hub
        async with self.lock:
            missed = None if since is None or (epoch and epoch != hub.epoch) else hub.since(since)
            if missed is None:
                seq = hub.seq
                data = await views.snapshot(self.state)
                await self._send({"seq": seq, "type": "snapshot", "data": data, "at": time.time()})
                self.last_sent = max(self.last_sent, seq)
                return
            for event in missed:
                await self._send(event.to_json())
            self.last_sent = max([self.last_sent, *(e.seq for e in missed)])
            synced = {"seq": self.last_sent, "replayed": len(missed)}
            await self._send({"seq": None, "type": "synced", "data": synced, "at": time.time()})

    async def error(self, detail: str) -> None:
        await self.send({"seq": None, "type": "error", "data": {"detail": detail}, "at": time.time()})

    async def pump(self) -> None:
        """Forward live events in order, skipping those a resume already sent."""
        while True:
            event = await self.listener.queue.get()
            async with self.lock:
                if event.seq > self.last_sent:
                    await self._send(event.to_json())
                    self.last_sent = event.seq

    async def handle(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self.error('messages must be JSON, e.g. {"since": 42}')
            return
        if not isinstance(message, dict):
            await self.error("messages must be JSON objects")
            return
        kind = message.get("type", "resume" if "since" in message else None)
        if kind == "ping":
            await self.send({"seq": None, "type": "pong", "data": {"seq": self.state.hub.seq}, "at": time.time()})
        elif kind in ("resume", "hello"):
            since = message.get("since")
            if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
                await self.error("'since' must be a non-negative integer sequence number")
                return
            await self.resume(since, message.get("epoch") if isinstance(message.get("epoch"), str) else None)
        else:
            await self.error(f'unknown message type {kind!r}; send {{"since": seq}} or {{"type": "ping"}}')


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    state = ws_state(websocket)
    if not token_matches(state.settings.api_token, websocket_token(websocket)):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="missing or wrong API token")
        return
    await websocket.accept()
    listener = state.hub.listen()  # from here on no event is lost for this client
    conn = Connection(websocket, state, listener)
    try:
        await _opening(conn)
        await _serve(conn)
    except (WebSocketDisconnect, OSError):
        pass  # the client went away
    finally:
        state.hub.forget(listener)


async def _opening(conn: Connection) -> None:
    """The first message decides the start: a resume, or (nothing, or anything else) a snapshot."""
    try:
        text = await asyncio.wait_for(_next_text(conn), FIRST_MESSAGE_WAIT)
    except TimeoutError:
        await conn.resume(None, None)
        return
    message = _loads(text) if text is not None else None
    if isinstance(message, dict) and "since" in message:
        await conn.handle(text or "")
        return
    await conn.resume(None, None)
    if text is None:
        await conn.error("binary messages are not understood; send JSON text")
    elif not (isinstance(message, dict) and message.get("type") == "hello"):
        await conn.handle(text)  # answers pings, and errors for bad messages


async def _next_text(conn: Connection) -> str | None:
    """The next message's text (None for a binary one); WebSocketDisconnect when it closes."""
    message = await conn.ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    return message.get("text")


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


async def _serve(conn: Connection) -> None:
    pump = asyncio.create_task(conn.pump(), name="ws-pump")
    overflow = asyncio.create_task(conn.listener.overflowed.wait(), name="ws-overflow")
    reader = asyncio.create_task(_read(conn), name="ws-read")
    try:
        done, _ = await asyncio.wait({pump, overflow, reader}, return_when=asyncio.FIRST_COMPLETED)
        if overflow in done:  # too far behind: the client reconnects and resyncs with `since`
            await conn.ws.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="too slow; reconnect with since")
        for task in done:
            if not task.cancelled() and (exc := task.exception()) is not None:
                raise exc
    finally:
        for task in (pump, overflow, reader):
            task.cancel()
        for task in (pump, overflow, reader):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task


async def _read(conn: Connection) -> None:
    while True:
        text = await _next_text(conn)
        if text is None:
            await conn.error("binary messages are not understood; send JSON text")
        else:
            await conn.handle(text)
