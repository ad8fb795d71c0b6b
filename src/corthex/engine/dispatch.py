"""Sending queued requests out: plan batches, record each intent, create it at its provider."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import orjson

from corthex.domain.planning import BatchPlan, plan_batches
from corthex.domain.requests import LLMRequest
from corthex.engine.context import EngineContext
from corthex.errors import ProviderError
from corthex.providers.base import WireItem

log = logging.getLogger(__name__)


def new_batch_id() -> str:
    return "cb_" + uuid.uuid4().hex[:20]


async def dispatch_once(ctx: EngineContext) -> int:
    """Send every ready request; one batch per plan, each recorded on its own, so one
    provider's failure leaves the others going through. Returns batches created."""
    items = await ctx.store.dispatchable(time.time())
    if not items:
        return 0
    plans = plan_batches(items)
    created = await asyncio.gather(*(_send(ctx, plan) for plan in plans))
    return sum(created)


async def _send(ctx: EngineContext, plan: BatchPlan) -> int:
    batch_id = new_batch_id()
    now = time.time()
    taken = await ctx.store.open_batch(
        batch_id,
        plan.provider,
        plan.model,
        plan.request_ids,
        now=now,
        owner=ctx.worker_id,
        lease=ctx.settings.lease_seconds,
    )
    if taken == 0:  # another worker took them all
        await ctx.store.close_batch(batch_id, now)
        return 0
    return await create_remote(ctx, batch_id, plan.provider.value, plan.model)


async def create_remote(ctx: EngineContext, batch_id: str, provider_name: str, model: str | None) -> int:
    """Create the recorded batch at its provider, then record that it exists."""
    provider = ctx.provider(provider_name)
    bodies = await ctx.store.batch_bodies(batch_id)
    items = [WireItem(wire_id, LLMRequest.from_dict(orjson.loads(body))) for wire_id, body in bodies]
    try:
        async with ctx.limit(provider_name):
            ref = await provider.submit(batch_id, model, items)
    except ProviderError as exc:
        await _creation_failed(ctx, batch_id, exc)
        return 0
    await ctx.store.mark_submitted(batch_id, ref, time.time(), ctx.poll_policy.initial)
    await ctx.store.release(batch_id, ctx.worker_id)
    log.info("batch %s created at %s as %s (%d requests)", batch_id, provider_name, ref.remote_id, len(items))
    await ctx.bus.publish(
        "batch.submitted",
        batch_id=batch_id,
        provider=provider_name,
        model=model,
        requests=len(items),
        remote_id=ref.remote_id,
    )
    return 1


async def _creation_failed(ctx: EngineContext, batch_id: str, exc: ProviderError) -> None:
    now = time.time()
    row_failures = await _failures_so_far(ctx, batch_id)
    delay = ctx.retry_policy.submit_delay(row_failures + 1)
    given_up = await ctx.store.submission_failed(
        batch_id,
        str(exc),
        retry_at=now + delay,
        max_failures=ctx.retry_policy.max_submit_failures,
        now=now,
    )
    log.warning("batch %s not created (%s); its requests retry in %.1fs", batch_id, exc, delay)
    await ctx.bus.publish(
        "batch.submit_failed",
        batch_id=batch_id,
        provider=exc.provider,
        error=str(exc),
        retry_in=delay,
        given_up=len(given_up),
    )
    if given_up:
        await ctx.store.finish_jobs(now)


async def _failures_so_far(ctx: EngineContext, batch_id: str) -> int:
    return await ctx.store.max_submit_failures(batch_id)
