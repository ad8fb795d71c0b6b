"""Small helpers for talking to a running server: a job's end, and the WebSocket protocol."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from corthex.testing import wait_until

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4OTA="  # base64 of a test-only secret
MIXED = [
    {"custom_id": f"r{i}", "model": m, "prompt": f"question {i}", "max_output_tokens": 64}
    for i, m in enumerate(["gpt-5-mini", "claude-sonnet-4-6", "gemini-2.5-flash"] * 3)
]


async def job_done(client: httpx.AsyncClient, job_id: str, limit_s: float = 30) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        job = (await client.get(f"/jobs/{job_id}")).json()
        return job if job["completed_at"] is not None else None

    return await wait_until(check, within=limit_s, what=f"job {job_id} complete")


def ws_open(url: str, **kwargs: Any) -> connect:
    return connect(url, open_timeout=10, close_timeout=5, **kwargs)


async def receive(ws: ClientConnection, limit_s: float = 10) -> dict[str, Any]:
    return orjson.loads(await asyncio.wait_for(ws.recv(), limit_s))


async def receive_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool], limit_s: float = 30
) -> list[dict[str, Any]]:
    """Every message up to and including the first one for which `done` is true."""
    deadline = time.monotonic() + limit_s
    seen = []
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no matching message in {limit_s}s; got {[m['type'] for m in seen]}"
        message = await receive(ws, left)
        seen.append(message)
        if done(message):
            return seen


async def send(ws: ClientConnection, message: dict[str, Any] | str) -> None:
    await ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())
