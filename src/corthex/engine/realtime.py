"""The realtime transport: a job's requests through the providers' realtime APIs, for urgent
chains. Results land in the store exactly as batch results do."""

from __future__ import annotations

import asyncio
import logging
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
    owner, lease = ctx.worker_id, ctx.settings.lease_seconds
    if not await ctx.store.claim_sending(job_id, owner, clock.now(), lease):
        log.info("realtime job %s: its calls are being sent by another process", job_id)
        return
    try:
        async with _sender_lease_kept(ctx, job_id):
            bodies = await ctx.store.take_realtime(job_id, batch_id)
            finals = await asyncio.gather(*(_answered(ctx, batch_id, wire_id, body) for wire_id, body in bodies))
    finally:
        await ctx.store.release_sending(job_id, owner)
    await ctx.bus.publish(BatchCollected(batch_id=batch_id, provider="realtime", results=len(finals), retried=0))
    for done in await ctx.store.finish_jobs(clock.now()):
        await ctx.bus.publish(JobCompleted(job_id=done))


def _sender_lease_kept(ctx: EngineContext, job_id: str) -> AbstractAsyncContextManager[None]:
    """The job's lease renewed off the event loop: a stalled loop must not let another worker
    send the calls still in flight a second time."""
    owner, lease = ctx.worker_id, ctx.settings.lease_seconds

    async def renew(store: Store) -> bool:
        return await store.claim_sending(job_id, owner, clock.now(), lease)

    return held_off_loop(ctx.store.url, renew, lease=lease, stall_limit=ctx.settings.call_seconds())


async def _answered(ctx: EngineContext, batch_id: str, wire_id: str, body: bytes) -> FinalResult:
    """One call, its result written as soon as it is in: a crash while the other calls of the
    step are still out re-sends only those (each answer is paid for at the full price)."""
    item = WireItem(wire_id, LLMRequest.from_dict(orjson.loads(body)))
    final = await answer_on_tier(ctx, item, Tier.REALTIME)
    await ctx.store.record_results(batch_id, [final], [], clock.now())
    crash_point("after_realtime_answer")
    return final
