"""The realtime transport: a job's requests through the providers' realtime APIs, for urgent
chains. Results land in the store exactly as batch results do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import orjson

from corthex import clock
from corthex.crashpoints import crash_point
from corthex.domain.events import BatchCollected, JobCompleted
from corthex.domain.requests import LLMRequest
from corthex.domain.results import FinalResult
from corthex.domain.tiers import Tier
from corthex.engine.context import EngineContext
from corthex.engine.keeper import held_off_loop
from corthex.engine.tiers import answer_on_tier
from corthex.providers.base import WireItem
from corthex.store.base import Store

log = logging.getLogger(__name__)


def realtime_batch_id(job_id: str) -> str:
    return "rt_" + job_id


async def run_realtime(ctx: EngineContext, job_id: str) -> None:
    """Send every unsettled request of a realtime job and record the results. Safe to call
    again after a crash: only requests without a result go out. While another live process is
    sending the job's calls, nothing is sent (each call sent again is paid for again)."""
    batch_id = realtime_batch_id(job_id)

    async def answer(item: WireItem) -> FinalResult:
        return await answer_on_tier(ctx, item, Tier.REALTIME)

    finals = await send_job_calls(ctx, job_id, batch_id, answer, after_answer="after_realtime_answer")
    if finals is None:
        log.info("realtime job %s: its calls are being sent by another process", job_id)
        return
    await ctx.bus.publish(BatchCollected(batch_id=batch_id, provider="realtime", results=len(finals), retried=0))
    await finish_ready_jobs(ctx)


async def finish_ready_jobs(ctx: EngineContext) -> None:
    """Mark complete the jobs whose every request now has its result, and say so."""
    for done in await ctx.store.finish_jobs(clock.now()):
        await ctx.bus.publish(JobCompleted(job_id=done))


async def send_job_calls(
    ctx: EngineContext,
    job_id: str,
    batch_id: str,
    answer: Callable[[WireItem], Awaitable[FinalResult]],
    *,
    after_answer: str,
    after_take: str | None = None,
    hurried_only: bool = False,
) -> list[FinalResult] | None:
    """A job's queued requests (with `hurried_only`, those a deadline moved) sent as single calls
    under the job's sending lease: assigned to the pseudo-batch `batch_id` first, each answer
    (`answer`) written the moment it is in, so a crash re-sends only the unanswered. None,
    sending nothing, while another live process holds the lease. (`after_take`, `after_answer`:
    the crash points where the reliability tests kill it.)"""
    owner, lease = ctx.worker_id, ctx.settings.lease_seconds
    if not await ctx.store.claim_sending(job_id, owner, clock.now(), lease):
        return None

    async def answered(wire_id: str, body: bytes) -> FinalResult:
        final = await answer(WireItem(wire_id, LLMRequest.from_dict(orjson.loads(body))))
        await ctx.store.record_results(batch_id, [final], [], clock.now())
        crash_point(after_answer)
        return final

    try:
        async with _sender_lease_kept(ctx, job_id):
            bodies = await ctx.store.take_realtime(job_id, batch_id, hurried_only=hurried_only)
            if after_take is not None:
                crash_point(after_take)
            finals = await asyncio.gather(*(answered(wire_id, body) for wire_id, body in bodies))
    finally:
        await ctx.store.release_sending(job_id, owner)
    return list(finals)


def _sender_lease_kept(ctx: EngineContext, job_id: str) -> AbstractAsyncContextManager[None]:
    """The job's lease renewed off the event loop: a stalled loop must not let another worker
    send the calls still in flight a second time."""
    owner, lease = ctx.worker_id, ctx.settings.lease_seconds

    async def renew(store: Store) -> bool:
        return await store.claim_sending(job_id, owner, clock.now(), lease)

    return held_off_loop(ctx.store.url, renew, lease=lease, stall_limit=ctx.settings.call_seconds())
