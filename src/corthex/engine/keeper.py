"""Keeping a lease from a thread of its own, for work that costs money each time it is done.

`renewed` (engine/leases.py) renews a lease from the event loop. A loop can stall for longer than
a lease (a long CPU-bound stretch, a blocking call, a loaded host); the renewal then misses its
turn and another worker takes over work still in hand. For a batch or a chain that costs a
repeated read; for realtime calls it costs a second payment. Here the lease is renewed from a
thread with its own database connection, which runs on while the loop is stuck, but only while
the loop has shown a sign of life within `stall_limit`: a wedged process does not hold its work
for ever. A dead process renews nothing, so its work is taken over once the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from corthex.store.base import Store
from corthex.store.sql import SqlStore

log = logging.getLogger(__name__)

Renew = Callable[[Store], Awaitable[bool]]  #: renews the lease on the given connection: still ours


@contextlib.asynccontextmanager
async def held_off_loop(url: str, renew: Renew, *, lease: float, stall_limit: float) -> AsyncIterator[None]:
    """Renew a lease with `renew` every third of `lease` from a thread until the block ends."""
    period = max(lease / 3, 0.05)
    heartbeat = _Heartbeat()
    stop = threading.Event()
    thread = threading.Thread(
        target=_renew_until_stopped,
        args=(url, renew, period, stop, lambda: heartbeat.age() < stall_limit),
        name="corthex-lease-keeper",
        daemon=True,  # a process on its way out does not wait for it
    )
    beats = asyncio.create_task(heartbeat.beat(period))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        beats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beats
        await asyncio.to_thread(thread.join)


class _Heartbeat:
    """When the event loop last ran a task of ours."""

    def __init__(self) -> None:
        self.seen = time.monotonic()

    async def beat(self, period: float) -> None:
        while True:
            self.seen = time.monotonic()
            await asyncio.sleep(period)

    def age(self) -> float:
        return time.monotonic() - self.seen


def _renew_until_stopped(
    url: str, renew: Renew, period: float, stop: threading.Event, loop_alive: Callable[[], bool]
) -> None:
    loop = asyncio.new_event_loop()
    store = SqlStore.connect(url)
    try:
        while not stop.wait(period):
            if not loop_alive():
                log.warning("event loop silent for too long: lease no longer renewed")
                return
            if not _renewed(loop, store, renew):
                return
    finally:
        loop.run_until_complete(store.close())
        loop.close()


def _renewed(loop: asyncio.AbstractEventLoop, store: Store, renew: Renew) -> bool:
    """One renewal; False once the lease is someone else's."""
    try:
        if loop.run_until_complete(renew(store)):
            return True
        log.info("lease no longer held")
        return False
    except Exception as exc:  # a store hiccup: the next period tries again
        log.warning("lease not renewed: %s", exc)
        return True
