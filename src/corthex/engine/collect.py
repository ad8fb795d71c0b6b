"""Result collection: stream an ended batch's rows into the store, a chunk per transaction.

Replaying a collection after a crash is harmless: a request takes a result only while it is
still assigned to this batch, so each ends with exactly one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from corthex import clock
from corthex.crashpoints import crash_point
from corthex.domain.events import BatchCollected, JobCompleted
from corthex.domain.outcomes import Retry, missing_row, settle
from corthex.domain.records import BatchRow, RequestMeta
from corthex.domain.registry import fallback_after
from corthex.domain.results import UNKEYED, FinalResult, ProviderResult, ResultStatus, Usage
from corthex.engine.calls import provider_rows
from corthex.engine.context import EngineContext
from corthex.phases import mark

log = logging.getLogger(__name__)

CHUNK = 2000
#: Rows read between two turns given to the event loop: reading rows already received awaits no
#: I/O, so a long download would otherwise hold up every other batch's polls until it ends.
ROWS_PER_TURN = 200


async def collect(ctx: EngineContext, batch: BatchRow, *, fetch: bool = True, error: str | None = None) -> None:
    """Give every request of the ended batch its result (or another attempt), then close it.

    :param fetch: read the provider's results (False when the batch was given up).
    :param error: why results could not be read, for the requests left without one.
    """
    async with ctx.collecting():  # a few at a time: each holds its batch's pending requests
        log.info("batch %s collecting", batch.id)
        mark("collecting", batch=batch.id)
        with _gc_paused():
            await _collect(ctx, batch, fetch=fetch, error=error)


async def _collect(ctx: EngineContext, batch: BatchRow, *, fetch: bool, error: str | None) -> None:
    pending = await ctx.store.request_meta(batch.id)
    written = retried = 0
    unkeyed: list[ProviderResult] = []
    if fetch and batch.remote is not None and batch.error is None:
        written, retried, unkeyed = await _stream(ctx, batch, pending)
    placed = _placed(batch, unkeyed, list(pending))
    done = {row.wire_id for row in placed}
    leftovers = placed + [_missing(batch, wire_id, error) for wire_id in list(pending) if wire_id not in done]
    w, r = await _write(ctx, batch, leftovers, pending)
    written, retried = written + w, retried + r
    crash_point("before_close")
    now = clock.now()
    await ctx.store.close_batch(batch.id, now)
    mark("collected", batch=batch.id, results=written)
    ctx.storage.succeeded()
    await ctx.store.checkpoint()  # the WAL back to nothing: a worker recovers from a full disk with little room
    log.info("batch %s collected: %d results, %d requests to retry", batch.id, written, retried)
    await ctx.bus.publish(
        BatchCollected(batch_id=batch.id, provider=batch.provider.value, results=written, retried=retried)
    )
    for job_id in await ctx.store.finish_jobs(now):
        await ctx.bus.publish(JobCompleted(job_id=job_id))
        ctx.wake.set()
    if retried:
        ctx.wake.set()


async def _stream(
    ctx: EngineContext, batch: BatchRow, pending: dict[str, RequestMeta]
) -> tuple[int, int, list[ProviderResult]]:
    """Write the provider's rows in chunks; (written, retried, rows that came back unkeyed)."""
    assert batch.remote is not None
    writes = _Writes(ctx, batch, pending)
    buffer: list[ProviderResult] = []
    unkeyed: list[ProviderResult] = []
    read = 0
    # Native lines (batched apart from ours) keep the provider's whole result object; for the
    # others it is never stored, and held through a chunk it was most of collection's memory.
    keep_raw = any(meta[6] for meta in pending.values())
    try:
        async with ctx.limit(batch.provider.value):
            rows = ctx.provider(batch.provider).results(batch.remote, keep_raw=keep_raw)
            async for row in provider_rows(batch.provider.value, rows):
                read += 1
                if read % ROWS_PER_TURN == 0:
                    await asyncio.sleep(0)  # other batches' polls and collections get their turn
                if row.wire_id == UNKEYED:
                    unkeyed.append(row)
                    continue
                buffer.append(row)
                if len(buffer) >= ctx.settings.result_chunk:
                    if await writes.add(buffer):
                        crash_point("after_result_chunk")
                    buffer = []
        mark("downloaded", batch=batch.id)
        if await writes.add(buffer):
            crash_point("after_result_chunk")
    finally:
        await writes.drain()
    return writes.written, writes.retried, unkeyed


def _placed(batch: BatchRow, unkeyed: list[ProviderResult], left: list[str]) -> list[ProviderResult]:
    """Rows that came back without their key (python-genai#2008), placed where that is provably
    right: one such row with one request left without a result is that request's answer. Any
    other: each request left gets its own outcome (missing, another attempt), the batch's other
    results stand."""
    if not unkeyed:
        return []
    if len(unkeyed) == 1 and len(left) == 1:
        log.warning("batch %s: a result without its key is the one request left, %s", batch.id, left[0])
        return [dataclasses.replace(unkeyed[0], wire_id=left[0])]
    log.warning(
        "batch %s: %d results came back without their keys and cannot be placed; %d requests get their own outcome",
        batch.id,
        len(unkeyed),
        len(left),
    )
    return []


#: Collections in progress with the cyclic garbage collector paused, and since when it is.
_pause = {"count": 0, "since": 0.0}
#: Overlapping collections may keep it paused for long: then it runs once this often anyway.
MAX_GC_PAUSE = 60.0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while results are ingested. A batch allocates millions of
    short-lived objects, and each burst of them triggers collections: every full one walks the
    worker's whole heap (hundreds of thousands of live objects), a fifth of ingestion time.
    Reference counting still frees everything at once; only reference cycles wait until the
    last collection in progress ends. Left alone if the collector was off already."""
    if _pause["count"] == 0:
        if not gc.isenabled():
            yield
            return
        _pause["since"] = time.monotonic()
    _pause["count"] += 1
    gc.disable()
    try:
        yield
    finally:
        _pause["count"] -= 1
        if _pause["count"] == 0:
            gc.enable()
        elif time.monotonic() - _pause["since"] > MAX_GC_PAUSE:
            gc.collect()
            _pause["since"] = time.monotonic()


class _Writes:
    """Chunks written in order, one transaction at a time, while the next chunk is read: the
    database works in its own thread as the event loop parses, instead of in turn."""

    def __init__(self, ctx: EngineContext, batch: BatchRow, pending: dict[str, RequestMeta]) -> None:
        self._ctx, self._batch, self._pending = ctx, batch, pending
        self._task: asyncio.Task[tuple[int, int]] | None = None
        self.written = self.retried = 0

    async def add(self, rows: list[ProviderResult]) -> bool:
        """Start writing `rows` once the previous chunk is committed; whether one was."""
        committed = await self.drain()
        self._task = asyncio.ensure_future(_write(self._ctx, self._batch, rows, self._pending))
        return committed

    async def drain(self) -> bool:
        """Wait for the chunk in flight, if any; whether there was one."""
        task, self._task = self._task, None
        if task is None:
            return False
        written, retried = await task
        self.written, self.retried = self.written + written, self.retried + retried
        return True


def _missing(batch: BatchRow, wire_id: str, error: str | None) -> ProviderResult:
    ended_as = ResultStatus(batch.ended_as) if batch.ended_as else None
    batch_error = error or batch.error
    retryable = error is not None or ended_as is not None or batch.error_retryable
    return missing_row(wire_id, ended_as=ended_as, batch_error=batch_error, retryable=retryable)


async def _write(
    ctx: EngineContext, batch: BatchRow, rows: list[ProviderResult], pending: dict[str, RequestMeta]
) -> tuple[int, int]:
    finals: list[FinalResult] = []
    retries: list[Retry] = []
    estimated = 0
    for row in rows:
        meta = pending.pop(row.wire_id, None)
        if meta is None:  # a row for a request that is not ours (or already settled)
            continue
        attempts, job_canceled, model, schema, one_vector, estimate, _ = meta
        if row.embedding is not None and row.usage is None and estimate:
            row = dataclasses.replace(row, usage=Usage(input_tokens=estimate))  # Gemini file rows carry no count
            estimated += 1
        outcome = settle(
            row,
            provider=batch.provider,
            model=model,
            attempts=attempts,
            job_canceled=job_canceled,
            policy=ctx.retry_policy,
            schema=schema,
            one_vector=one_vector,
            fallback=fallback_after(model, batch.provider),
        )
        if isinstance(outcome, Retry):
            retries.append(outcome)
        else:
            finals.append(outcome)
    if estimated:
        note = "batch %s: %d embedding answers had no token count: usage estimated from the texts"
        log.info(note, batch.id, estimated)
    if not finals and not retries:
        return 0, 0
    plain = [(r.request_id, r.reason) for r in retries if r.provider is None]
    moved = [(r.request_id, r.reason, r.provider.value) for r in retries if r.provider is not None]
    written = await ctx.store.record_results(batch.id, finals, plain, clock.now(), fallbacks=moved)
    return written, len(retries)
