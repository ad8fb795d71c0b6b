"""Sending queued requests out: plan batches, record each intent, create it at its provider."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import overload

import orjson

from corthex import clock
from corthex.crashpoints import crash_point
from corthex.domain.batches import RemoteRef
from corthex.domain.events import BatchDuplicateCanceled, BatchSubmitFailed, BatchSubmitted
from corthex.domain.limits import ProviderLimits
from corthex.domain.planning import BatchPlan, PlanItem, Priming, plan_batches, priming
from corthex.domain.registry import fallback_after
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.engine.calls import provider_call
from corthex.engine.cancel import stop_if_unwanted
from corthex.engine.context import EngineContext
from corthex.engine.leases import renewed
from corthex.engine.storage import storage_failure
from corthex.errors import ProviderError
from corthex.phases import mark
from corthex.providers.base import Provider, WireItem

log = logging.getLogger(__name__)


class StoredItems(Sequence[WireItem]):
    """A batch's requests as stored (wire id, canonical JSON), each decoded only while it is
    read: the provider turns them into its wire form one at a time, so a batch's request
    objects are never all alive at once (at 100,000 requests they would be ~70 MB)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[tuple[str, bytes]]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> WireItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[WireItem]: ...

    def __getitem__(self, index: int | slice) -> WireItem | list[WireItem]:
        if isinstance(index, slice):
            return [_decoded(row) for row in self._rows[index]]
        return _decoded(self._rows[index])

    def __iter__(self) -> Iterator[WireItem]:
        return map(_decoded, self._rows)


def _decoded(row: tuple[str, bytes]) -> WireItem:
    return WireItem(row[0], LLMRequest.from_dict(orjson.loads(row[1])))


def new_batch_id() -> str:
    return "cb_" + uuid.uuid4().hex[:20]


#: Requests planned in one round, at most: what a round holds (its plan items and the plans' ids)
#: stays bounded however large the queue; the next round plans the rest. Twice the largest batch
#: any built-in provider's plan fills alone (OpenAI's 50,000 lines), so the window's edge rarely
#: leaves a batch short.
DISPATCH_WINDOW = 100_000

#: Batches recorded and built at once in one round. A batch being built holds its requests'
#: bodies in memory, so this bounds the memory of a large round (100,000 requests make five or
#: more batches); the provider calls of one overlap the building of the next.
BUILDING_AT_ONCE = 2


async def dispatch_once(ctx: EngineContext) -> int:
    """Send every ready request; one batch per plan, each recorded on its own, so one
    provider's failure leaves the others going through. Returns batches created."""
    items = await ctx.store.dispatchable(clock.now(), limit=DISPATCH_WINDOW)
    if not items:
        return 0
    limits = _limits(ctx, items)
    primed = _priming(ctx, items)
    if primed.primers:  # those go first, alone; the requests held for them wait
        out = {item.request_id for item in primed.primers} | {i for ids in primed.held.values() for i in ids}
        items = [item for item in items if item.request_id not in out]
    # Largest first: it runs longest at the provider, so it should start first.
    plans = sorted(plan_batches(items, limits), key=lambda plan: len(plan.request_ids), reverse=True)
    del items
    firsts = [(plan, _held_for(plan, primed)) for plan in plan_batches(primed.primers, limits)]
    mark("planned", batches=len(plans) + len(firsts))
    building = asyncio.Semaphore(BUILDING_AT_ONCE)
    sends = [*firsts, *((plan, []) for plan in plans)]
    created = await asyncio.gather(*(_send(ctx, plan, building, hold) for plan, hold in sends))
    return sum(created)


#: providers whose cache is written by one request and read by those processed after it, in a
#: batch whose requests run concurrently: worth a priming batch (docs/providers.md)
PRIMING_PROVIDERS = frozenset({"anthropic"})


def _priming(ctx: EngineContext, items: Sequence[PlanItem]) -> Priming:
    if not ctx.settings.cache_priming:
        return Priming()
    return priming(items, lambda name: name in PRIMING_PROVIDERS, ctx.settings.cache_priming_min_requests)


def _held_for(plan: BatchPlan, primed: Priming) -> list[str]:
    """The requests that wait for this priming batch: those of each primer in it."""
    return [held for primer in plan.request_ids for held in primed.held.get(primer, ())]


def _limits(ctx: EngineContext, items: Sequence[PlanItem]) -> dict[ProviderName, ProviderLimits]:
    """Each provider's limits, as its adapter states them (only the providers these items go to)."""
    return {name: ctx.provider(name).limits for name in {item.provider for item in items}}


async def _send(ctx: EngineContext, plan: BatchPlan, building: asyncio.Semaphore, hold: list[str]) -> int:
    async with building:
        return await _record_and_create(ctx, plan, hold)


async def _record_and_create(ctx: EngineContext, plan: BatchPlan, hold: Sequence[str] = ()) -> int:
    batch_id = new_batch_id()
    now = clock.now()
    taken = await ctx.store.open_batch(
        batch_id,
        plan.provider,
        plan.model,
        plan.request_ids,
        now=now,
        owner=ctx.worker_id,
        lease=ctx.settings.lease_seconds,
        hold=hold,
    )
    if taken == 0:  # another worker took them all
        await ctx.store.discard_empty_intent(batch_id)
        return 0
    return await create_remote(ctx, batch_id, plan.provider.value, plan.model)


async def create_remote(ctx: EngineContext, batch_id: str, provider_name: str, model: str | None) -> int:
    """Create the recorded batch at its provider, then record that it exists."""
    provider = ctx.provider(provider_name)
    async with _leased(ctx, batch_id):  # renewed while the batch is read, built and sent
        items = StoredItems(await ctx.store.batch_bodies(batch_id))
        async with ctx.limit(provider_name):
            # Fencing: still ours, and still an intent, right before the call? (A worker that
            # stalled past its lease may see another one recovering the intent now, or done with
            # it already: that one creates it, not this one.)
            window = ctx.settings.creation_seconds()
            if not await ctx.store.claim_intent(
                batch_id, ctx.worker_id, clock.now(), ctx.settings.lease_seconds, window=window
            ):
                log.warning("batch %s: lease lost before creation; left to the worker that took it", batch_id)
                return 0
            items = await _still_wanted(ctx, batch_id, items)
            if not items:  # every request in it was canceled: never created
                await _drop_intent(ctx, batch_id)
                return 0
            crash_point("before_create")
            try:
                with provider_call(provider_name, "create"):
                    ref = await _submit_within(provider, batch_id, model, items, window)
            except ProviderError as exc:
                await _creation_failed(ctx, batch_id, exc)
                return 0
    crash_point("after_create")
    if not await ctx.store.mark_submitted(batch_id, ref, clock.now(), ctx.poll_policy.initial):
        await cancel_duplicate(ctx, provider_name, batch_id, ref)
        return 0
    if await stop_if_unwanted(ctx, batch_id, provider_name, ref):  # canceled while the create was in flight
        await ctx.store.release(batch_id, ctx.worker_id)
        return 0
    crash_point("after_submitted")
    ctx.storage.succeeded()
    await ctx.store.release(batch_id, ctx.worker_id)
    log.info("batch %s created at %s as %s (%d requests)", batch_id, provider_name, ref.remote_id, len(items))
    mark("created", batch=batch_id, provider=provider_name, model=model, remote=ref.remote_id, requests=len(items))
    await ctx.bus.publish(
        BatchSubmitted(
            batch_id=batch_id, provider=provider_name, model=model, requests=len(items), remote_id=ref.remote_id
        )
    )
    return 1


async def _still_wanted(ctx: EngineContext, batch_id: str, items: StoredItems) -> StoredItems:
    """The batch's requests as they stand right before the create call: read again if a cancel
    took some out while it waited for a free call slot (no canceled request is sent)."""
    if await ctx.store.live_requests(batch_id) == len(items):
        return items
    return StoredItems(await ctx.store.batch_bodies(batch_id))


async def _drop_intent(ctx: EngineContext, batch_id: str) -> None:
    """An intent whose requests were all canceled before it was created: closed, never sent."""
    now = clock.now()
    await ctx.store.submission_failed(batch_id, "every request was canceled", retry_at=now, max_failures=1, now=now)
    log.info("batch %s: every request was canceled before its creation; not created", batch_id)


async def _submit_within(
    provider: Provider, batch_id: str, model: str | None, items: StoredItems, window: float
) -> RemoteRef:
    """Create the batch, or give up once the creation window is over: past it another worker may
    look for the batch and create it, so this creation must not land later unobserved."""
    try:
        async with asyncio.timeout(window):
            return await provider.submit(batch_id, model, items)
    except TimeoutError:
        raise ProviderError(
            provider.name.value, "create", f"not done within the creation window ({window:.0f}s)"
        ) from None


async def cancel_duplicate(ctx: EngineContext, provider_name: str, batch_id: str, ref: RemoteRef) -> None:
    """Another worker recorded this intent first (this one stalled past its lease while creating):
    the batch just created is a second one. Cancel it at once, before it costs anything —
    unless it is the very batch the other worker recorded (it found ours and adopted it)."""
    recorded = (await ctx.store.get_batch(batch_id)).remote
    if recorded is not None and recorded.remote_id == ref.remote_id:
        log.info("batch %s: %s was adopted by another worker meanwhile; nothing to cancel", batch_id, ref.remote_id)
        return
    log.error("batch %s was recorded by another worker meanwhile; canceling the duplicate %s", batch_id, ref.remote_id)
    try:
        with provider_call(provider_name, "cancel"):
            await ctx.provider(provider_name).cancel(ref)
    except ProviderError as exc:
        log.error("duplicate %s of batch %s could not be canceled: %s", ref.remote_id, batch_id, exc)
    await ctx.bus.publish(BatchDuplicateCanceled(batch_id=batch_id, provider=provider_name, remote_id=ref.remote_id))


def _leased(ctx: EngineContext, batch_id: str) -> AbstractAsyncContextManager[None]:
    return renewed(ctx.store.claim, batch_id, ctx.worker_id, ctx.settings.lease_seconds)


#: tries allowed when a creation failed on our own storage (a full disk is waited out)
NEVER_GIVE_UP = 2**31 - 1


def maybe_created(exc: ProviderError) -> bool:
    """ "Maybe created": the create call timed out, its connection dropped, its answer was
    unreadable or a 5xx (a gateway may answer so after the provider acted). Such a batch is
    looked for before it is created again. Never when our own storage failed (no room for the
    upload file): that happens before any create call."""
    if storage_failure(exc) is not None or exc.setup:  # an unknown host: the call never left
        return False
    return exc.op == "create" and (exc.status_code is None or exc.status_code >= 500)


def certainly_not_created(exc: ProviderError) -> bool:
    """ "Certainly not created": the upload (or any step before the create call) failed, or the
    create call was answered 4xx (429 included). Its requests go back to the queue."""
    return not maybe_created(exc)


async def _creation_failed(ctx: EngineContext, batch_id: str, exc: ProviderError) -> None:
    """Back off, then try again: an outage (retryable) until the failures in a row span
    `poll_unreachable_minutes`, a refusal only `submit_max_failures` times (RetryPolicy)."""
    if storage_failure(exc) is not None:  # e.g. no room for the upload file: the whole worker pauses
        ctx.storage.failed(exc)
    failures = await ctx.store.max_submit_failures(batch_id) + 1
    delay = ctx.retry_policy.submit_delay(failures)
    if maybe_created(exc):
        await _unconfirmed(ctx, batch_id, exc, delay)
    else:
        await _not_created(ctx, batch_id, exc, delay, failures)


async def _unconfirmed(ctx: EngineContext, batch_id: str, exc: ProviderError, delay: float) -> None:
    """Keep the intent: after the backoff the poller looks for it, adopts it if the provider has
    it, and creates it only if not (never a second batch for one intent). After a timeout the
    look waits two timeouts at least, so that a create still running at the provider when we
    gave up on it has landed by then."""
    if exc.status_code is None:
        delay = max(delay, 2 * ctx.settings.provider_timeout)
    await ctx.store.creation_unconfirmed(batch_id, str(exc), retry_at=clock.now() + delay)
    log.warning("batch %s: creation unconfirmed (%s); looked for in %.1fs", batch_id, exc, delay)
    await ctx.bus.publish(
        BatchSubmitFailed(batch_id=batch_id, provider=exc.provider, error=str(exc), retry_in=delay, given_up=0)
    )


async def _not_created(ctx: EngineContext, batch_id: str, exc: ProviderError, delay: float, failures: int) -> None:
    """The batch is abandoned; its requests go back to the queue after the backoff, or fail for
    good once the policy says waiting will not help (at once for a setup mistake)."""
    now = clock.now()
    allowed = ctx.retry_policy.submit_failures_allowed(retryable=exc.retryable)
    if exc.setup:  # a key refused, a base URL not found, an unknown host: no wait will fix it
        allowed = 1
    if storage_failure(exc) is not None:  # our disk, not the provider: the worker pauses, nobody fails
        allowed = NEVER_GIVE_UP
    provider = ProviderName(exc.provider)
    given_up = await ctx.store.submission_failed(
        batch_id,
        str(exc),
        retry_at=now + delay,
        max_failures=allowed,
        now=now,
        fallback=lambda model: fallback_after(model, provider),  # a provider that is down: the route goes on
    )
    if given_up:
        log.error(
            "batch %s not created (%s): %d requests failed after %d tries", batch_id, exc, len(given_up), failures
        )
    else:
        kind = "try" if exc.retryable else "refused; try"
        log.warning(
            "batch %s not created (%s); its requests retry in %.1fs (%s %d of %d)",
            batch_id,
            exc,
            delay,
            kind,
            failures,
            allowed,
        )
    await ctx.bus.publish(
        BatchSubmitFailed(
            batch_id=batch_id, provider=exc.provider, error=str(exc), retry_in=delay, given_up=len(given_up)
        )
    )
    if given_up:
        await ctx.store.finish_jobs(now)
