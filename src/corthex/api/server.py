"""Running the app under uvicorn: `corthex serve` (blocking) and in-process for `corthex demo`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI

from corthex.api.app import create_app
from corthex.config import Settings

START_TIMEOUT = 30.0


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (SIGINT/SIGTERM end it gracefully: the lifespan stops the worker)."""
    level = os.environ.get("CORTHEX_LOG_LEVEL", "info").lower()
    uvicorn.run(create_app(settings), host=host, port=port, log_level=level, ws="websockets-sansio")


class InProcessServer:
    """uvicorn in the running event loop: `async with InProcessServer(app, host, port) as s`."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.host, self.port = host, port
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> InProcessServer:
        self._task = asyncio.create_task(self.server.serve(), name="corthex-server")
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise RuntimeError("the server stopped while starting")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.05)
        return self

    async def alongside(self, work: Coroutine[Any, Any, None]) -> bool:
        """Run `work` while the server runs; False if the server stopped first (Ctrl-C)."""
        assert self._task is not None
        task = asyncio.create_task(work, name="corthex-alongside")
        await asyncio.wait({task, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def wait(self) -> None:
        """Until the server stops (Ctrl-C)."""
        if self._task is not None:
            await self._task

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


def free_port(host: str, preferred: int) -> int:
    """`preferred` if nothing listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")
