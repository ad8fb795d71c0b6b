"""Canceling a job: its unsent requests never go out, its requests in batches are dropped (what
comes back for them is discarded), and a batch left with no live request is canceled at its
provider — at once, or by its creator the moment a create still in flight returns."""

from __future__ import annotations

import logging

from corthex import clock
from corthex.domain.batches import RemoteRef
from corthex.domain.events import JobCanceled
from corthex.domain.jobs import CancelOutcome
from corthex.engine.calls import provider_call
from corthex.engine.context import EngineContext
from corthex.errors import ProviderError

log = logging.getLogger(__name__)


async def cancel_job(ctx: EngineContext, job_id: str) -> CancelOutcome:
    """Cancel the job; what it stopped.

    :raises JobFinished: the job had ended already; it is left exactly as it was."""
    done = await ctx.store.cancel_job(job_id, clock.now())
    stopped = 0
    for batch_id in done.batches:
        batch = await ctx.store.get_batch(batch_id)
        if batch.remote is not None and await stop_remote(ctx, batch_id, batch.provider.value, batch.remote):
            stopped += 1
    await ctx.store.finish_jobs(clock.now())
    await ctx.bus.publish(
        JobCanceled(job_id=job_id, canceled=done.canceled, already_done=done.already_done, batches=stopped)
    )
    ctx.wake.set()
    summary = await ctx.store.get_job(job_id)
    return CancelOutcome(summary, done.canceled, done.already_done, stopped)


async def stop_remote(ctx: EngineContext, batch_id: str, provider_name: str, ref: RemoteRef) -> bool:
    """Cancel the batch at its provider (it then ends and is collected as usual: nothing of it
    is wanted any more). Whether the provider took the cancel."""
    try:
        with provider_call(provider_name, "cancel"):
            await ctx.provider(provider_name).cancel(ref)
    except ProviderError as exc:  # it will still end; what it returns is discarded
        log.warning("cancel of batch %s failed: %s", batch_id, exc)
        return False
    finally:
        await ctx.store.poll_soon(batch_id)
    log.info("batch %s canceled at %s: none of its requests is wanted any more", batch_id, provider_name)
    return True


async def stop_if_unwanted(ctx: EngineContext, batch_id: str, provider_name: str, ref: RemoteRef) -> bool:
    """Right after a batch is recorded as created: if every request in it was canceled while the
    create was in flight, cancel it at once. Whether it was unwanted."""
    if await ctx.store.live_requests(batch_id) > 0:
        return False
    log.info("batch %s: its every request was canceled while it was being created", batch_id)
    await stop_remote(ctx, batch_id, provider_name, ref)
    return True
