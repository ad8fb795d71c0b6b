"""Keeping a lease alive while a worker is busy with what it leased.

A lease is short (Settings.lease_seconds) so that a dead worker's batches and chains are taken
over soon; a live worker renews it every third of that while a slow call (an upload, a create,
a long result download) is in flight, so that no other worker takes over work still in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from corthex import clock

log = logging.getLogger(__name__)

Claim = Callable[[str, str, float, float], Awaitable[bool]]  #: (id, owner, now, lease) -> still ours


@contextlib.asynccontextmanager
async def renewed(claim: Claim, ident: str, owner: str, lease: float) -> AsyncIterator[None]:
    """Renew `owner`'s lease on `ident` with `claim` until the block ends."""
    stop = asyncio.Event()

    async def renew() -> None:
        period = max(lease / 3, 0.05)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=period)
            if stop.is_set():
                return
            try:
                if not await claim(ident, owner, clock.now(), lease):
                    log.info("lease on %s no longer held by %s", ident, owner)
                    return
            except Exception as exc:  # a store hiccup: the next period tries again
                log.warning("lease on %s not renewed: %s", ident, exc)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        stop.set()
        await task
