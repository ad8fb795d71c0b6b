"""The worker loop of an engine in the background of a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from corthex.domain.events import Event, JobCompleted
from corthex.engine.engine import Engine


@contextlib.asynccontextmanager
async def worker_loop(engine: Engine, *job_ids: str) -> AsyncIterator[dict[str, asyncio.Event]]:
    """`engine.run()` in the background until the block ends; one event per job, set when it completes."""
    completed = {job_id: asyncio.Event() for job_id in job_ids}

    def done(event: Event) -> None:
        if isinstance(event, JobCompleted) and event.job_id in completed:
            completed[event.job_id].set()

    unsubscribe = engine.bus.subscribe(done, types=(JobCompleted,))
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    try:
        yield completed
    finally:
        stop.set()
        unsubscribe()
        await asyncio.wait_for(worker, timeout=30)
