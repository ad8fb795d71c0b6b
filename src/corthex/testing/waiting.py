"""The one way to wait in a test: poll a check until it holds, fail naming what was awaited."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def wait_until(check: Callable[[], Any], *, within: float = 30.0, what: str = "", every: float = 0.05) -> Any:
    """Call `check` (sync or async) until it returns something truthy, and return that.

    :raises AssertionError: after `within` seconds, naming `what` and the last value seen."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or check}; last: {value!r}")
        await asyncio.sleep(every)


def wait_until_sync(check: Callable[[], Any], *, within: float = 30.0, what: str = "", every: float = 0.05) -> Any:
    """`wait_until` for a test without an event loop (a sync SDK client's test)."""
    return asyncio.run(wait_until(check, within=within, what=what, every=every))
