"""The durable poller: polls due batches only, collects ended ones, recovers unconfirmed
creations, and gives up on batches that stay unreachable or never end."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from corthex import clock
from corthex.domain.batches import RUNNING_STATES, BatchStatus, RemoteState, RemoteStatus
from corthex.domain.events import BatchEnded, BatchProgress, BatchSubmitFailed, JobCompleted
from corthex.domain.polling import Progress
from corthex.domain.records import BatchRow
from corthex.engine.calls import provider_call
from corthex.engine.cancel import stop_if_unwanted
from corthex.engine.collect import collect
from corthex.engine.context import EngineContext
from corthex.engine.dispatch import create_remote, dispatch_once
from corthex.engine.leases import renewed
from corthex.engine.storage import storage_failure
from corthex.errors import ProviderError
from corthex.phases import mark
from corthex.providers.vocabulary import batch_state

log = logging.getLogger(__name__)

#: Batches recorded this long before an intent are never adopted for it (Anthropic's matching).
KNOWN_WINDOW = 3600.0
#: From this many due batches of one provider, one list call per page reads their statuses
#: instead of one retrieve each (where the provider's list shows what retrieve does).
LIST_POLL_MIN = 3

#: One provider's list call, shared by the due batches it reads: their statuses by remote id.
Listing = asyncio.Task[dict[str, RemoteStatus]]


async def poll_once(ctx: EngineContext, limit: int = 1000, *, intents: bool = True) -> int:
    """Handle every batch due now, with bounded concurrency per provider, and wait for them all.
    Returns how many. `intents=False` polls and collects only: no batch is created or adopted."""
    lease = ctx.settings.lease_seconds
    if ctx.storage.remaining() > 0:
        return 0
    due = await ctx.store.claim_due(clock.now(), ctx.worker_id, lease, limit=limit, intents=intents)
    listings = start_listings(ctx, due)
    await asyncio.gather(*(_handle_guarded(ctx, batch, listings.get(batch.id)) for batch in due))
    return len(due)


def start_listings(ctx: EngineContext, due: Sequence[BatchRow]) -> dict[str, Listing]:
    """Start one list call per provider with at least LIST_POLL_MIN submitted batches due (and a
    list that shows their statuses): the batch ids it serves, each with its shared task."""
    groups: dict[str, list[BatchRow]] = defaultdict(list)
    for batch in due:
        if batch.status is BatchStatus.SUBMITTED and batch.remote is not None:
            groups[batch.provider.value].append(batch)
    listings: dict[str, Listing] = {}
    for name, batches in groups.items():
        if len(batches) >= LIST_POLL_MIN and ctx.provider(name).lists_statuses:
            task = asyncio.create_task(_list_statuses(ctx, name, batches), name=f"corthex list {name}")
            task.add_done_callback(_retrieved)  # its failure is each batch's to handle, never "unretrieved"
            listings.update(dict.fromkeys((batch.id for batch in batches), task))
    return listings


def _retrieved(task: Listing) -> None:
    if not task.cancelled():
        task.exception()


async def _list_statuses(ctx: EngineContext, name: str, batches: Sequence[BatchRow]) -> dict[str, RemoteStatus]:
    refs = [batch.remote for batch in batches if batch.remote is not None]
    # our record of a batch is made before the provider's: no listed batch of ours is older
    since = _utc(min(batch.created_at for batch in batches))
    async with ctx.limit(name):
        with provider_call(name, "poll"):
            return await ctx.provider(name).poll_many(refs, since)


async def _handle_guarded(ctx: EngineContext, batch: BatchRow, listing: Listing | None = None) -> None:
    """`_handle`, a local storage error turned into the worker's pause (see engine/storage.py)."""
    try:
        await _handle(ctx, batch, listing)
    except Exception as exc:
        if storage_failure(exc) is None:
            raise
        ctx.storage.failed(exc)


class BackgroundPolls:
    """The worker loop's batches in hand, each in its own task: one long result download does not
    hold up the other batches' polls, new submissions or the next chain step behind it."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dispatch: asyncio.Task[None] | None = None

    @property
    def dispatching(self) -> bool:
        return self._dispatch is not None and not self._dispatch.done()

    def start_dispatch(self) -> None:
        """Send the ready requests in the background, one round at a time: a slow upload or
        create holds up no poll and no chain step."""
        if not self.dispatching and self._ctx.storage.remaining() == 0:
            self._dispatch = asyncio.create_task(self._dispatching(), name="corthex dispatch")

    async def _dispatching(self) -> None:
        try:
            if await dispatch_once(self._ctx):
                self._ctx.wake.set()  # new batches to poll soon, and maybe requests left to send
        except Exception as exc:  # the requests stay queued: the next round sends them
            if storage_failure(exc) is not None:
                self._ctx.storage.failed(exc)
            else:
                log.exception("sending batches failed; retrying on the next round")
        # No wake-up after a round that sent nothing: each round starts one, so waking on it was
        # a busy loop (~150 rounds a second on an idle server, starving the API of database
        # connections). Requests held back by a backoff are due at `next_dispatch_at`.

    async def start_due(self, limit: int = 1000) -> int:
        """Claim the batches due now and start handling them; returns how many were started."""
        room = limit - len(self._tasks)
        if room <= 0 or self._ctx.storage.remaining() > 0:  # a full disk: nothing is claimed
            return 0
        ctx = self._ctx
        due = await ctx.store.claim_due(clock.now(), ctx.worker_id, ctx.settings.lease_seconds, limit=room)
        fresh = [batch for batch in due if batch.id not in self._tasks]  # in hand already: renewed, not restarted
        listings = start_listings(ctx, fresh)
        for batch in fresh:
            handling = self._handle(batch, listings.get(batch.id))
            self._tasks[batch.id] = asyncio.create_task(handling, name=f"corthex batch {batch.id}")
        return len(fresh)

    async def _handle(self, batch: BatchRow, listing: Listing | None) -> None:
        try:
            await _handle(self._ctx, batch, listing)
        except Exception as exc:  # e.g. the store failed: the batch is due again after a backoff
            if storage_failure(exc) is not None:  # recording a backoff would fail too: the worker pauses
                self._ctx.storage.failed(exc)
            else:
                log.exception("handling batch %s failed; retrying later", batch.id)
                await _back_off(self._ctx, batch)
        finally:
            del self._tasks[batch.id]
            self._ctx.wake.set()  # its next poll time changed: the loop looks again

    async def drain(self) -> None:
        """Let the batches in hand finish (a stop waits for them rather than cutting them off)."""
        if self._dispatch is not None:
            await asyncio.gather(self._dispatch, return_exceptions=True)
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


async def _back_off(ctx: EngineContext, batch: BatchRow) -> None:
    """Push the batch's next look back as after a failed call (never a hot loop on one batch)."""
    failures = batch.poll_failures + 1
    delay = ctx.poll_policy.failure_delay(failures)
    try:
        await ctx.store.back_off(batch.id, failures, retry_at=clock.now() + delay)
    except Exception:  # the store itself is failing: the worker loop's own pause applies
        log.exception("could not defer batch %s", batch.id)


async def _handle(ctx: EngineContext, batch: BatchRow, listing: Listing | None = None) -> None:
    """Work on a batch this worker has claimed; the lease is renewed meanwhile, released after.
    `listing`: the list call that reads its status with other batches' (else it is retrieved)."""
    try:
        async with renewed(ctx.store.claim, batch.id, ctx.worker_id, ctx.settings.lease_seconds):
            if batch.status is BatchStatus.INTENT:
                await _recover_intent(ctx, batch)
            elif batch.status is BatchStatus.SUBMITTED:
                await _poll(ctx, batch, listing)
            else:
                await _collect(ctx, batch)
    finally:
        await ctx.store.release(batch.id, ctx.worker_id)


async def _recover_intent(ctx: EngineContext, batch: BatchRow) -> None:
    """A batch recorded but not confirmed: adopt it if the provider has it, else create it."""
    provider = ctx.provider(batch.provider)
    known = await ctx.store.known_remote_ids(batch.provider, batch.created_at - KNOWN_WINDOW)
    try:
        async with ctx.limit(batch.provider.value):
            count = batch.request_count
            with provider_call(batch.provider.value, "find"):
                ref = await provider.find(batch.id, _utc(batch.created_at), expected_count=count, exclude=known)
    except ProviderError as exc:
        await _find_failed(ctx, batch, exc)
        return
    if ref is None:
        # the failures that kept the intent were an outage (timeouts, 5xx): as patient as polling
        max_failures = ctx.retry_policy.submit_failures_allowed(retryable=True)
        if await ctx.store.max_submit_failures(batch.id) >= max_failures:  # and the provider has none
            error = batch.error or "the batch could not be created"
            await _abandon_intent(ctx, batch, error, max_failures=max_failures)
            return
        log.info("batch %s was never created at %s: creating it now", batch.id, batch.provider)
        await create_remote(ctx, batch.id, batch.provider.value, batch.model)
        return
    log.info("adopting batch %s found at %s as %s", batch.id, batch.provider, ref.remote_id)
    if not await ctx.store.mark_submitted(batch.id, ref, clock.now(), 0.0):
        log.warning("batch %s was recorded meanwhile by another worker; not adopting %s", batch.id, ref.remote_id)
        return
    await stop_if_unwanted(ctx, batch.id, batch.provider.value, ref)  # its jobs were canceled meanwhile


async def _find_failed(ctx: EngineContext, batch: BatchRow, exc: ProviderError) -> None:
    """The list call failed: look again after a backoff (never create blind)."""
    failures = batch.poll_failures + 1
    # whether it exists cannot be known: fail, never resend (at once when the setup is wrong:
    # a key refused, an endpoint not found, an unknown host: no wait will fix it)
    if exc.setup or ctx.poll_policy.unreachable(failures):
        error = f"creation could not be confirmed: {failures} failed lookups, last: {exc}"
        await _abandon_intent(ctx, batch, error, max_failures=1)
        return
    delay = ctx.poll_policy.failure_delay(failures)
    log.warning("cannot look for batch %s at %s yet (%s); next look in %.1fs", batch.id, batch.provider, exc, delay)
    await ctx.store.lookup_failed(batch.id, ctx.worker_id, failures, error=str(exc), retry_at=clock.now() + delay)


async def _abandon_intent(ctx: EngineContext, batch: BatchRow, error: str, *, max_failures: int) -> None:
    """Give up an intent: its requests fail for good (those with failures to spare go back to
    the queue)."""
    now = clock.now()
    given_up = await ctx.store.submission_failed(batch.id, error, retry_at=now, max_failures=max_failures, now=now)
    log.error("batch %s given up: %s", batch.id, error)
    await ctx.bus.publish(
        BatchSubmitFailed(
            batch_id=batch.id, provider=batch.provider.value, error=error, retry_in=0, given_up=len(given_up)
        )
    )
    for job_id in await ctx.store.finish_jobs(now):
        await ctx.bus.publish(JobCompleted(job_id=job_id))


async def _poll(ctx: EngineContext, batch: BatchRow, listing: Listing | None = None) -> None:
    assert batch.remote is not None
    try:
        status = await _listed(batch, listing) if listing is not None else None
        if status is None:  # no list call, or the list did not show it: retrieved on its own
            async with ctx.limit(batch.provider.value):
                with provider_call(batch.provider.value, "poll"):
                    status = await ctx.provider(batch.provider).poll(batch.remote)
    except ProviderError as exc:
        await _poll_failed(ctx, batch, exc, clock.now())
        return
    now = clock.now()  # the next interval runs from this answer, not from a wait for a free call slot
    if status.state is RemoteState.RUNNING:
        await _still_running(ctx, batch, status, now)
        return
    await _mark_ended(ctx, batch, status, now)
    await _collect(ctx, await ctx.store.get_batch(batch.id))


async def _listed(batch: BatchRow, listing: Listing) -> RemoteStatus | None:
    """The batch's status as the shared list call read it (None: not shown). A failed list call
    fails this batch's poll as a retrieve would; one the provider refuses for good (a server
    without that list) leaves the batch to its own retrieve."""
    assert batch.remote is not None
    try:
        statuses = await asyncio.shield(listing)  # one batch's cancellation stops not the others' list
    except ProviderError as exc:
        if exc.retryable or exc.setup:
            raise
        log.warning("listing %s batches failed (%s); retrieving batch %s on its own", batch.provider, exc, batch.id)
        return None
    return statuses.get(batch.remote.remote_id)


async def _still_running(ctx: EngineContext, batch: BatchRow, status: RemoteStatus, now: float) -> None:
    reason = ctx.poll_policy.gives_up(failures=0, submitted_at=_utc(batch.submitted_at or now), now=_utc(now))
    if reason is not None:
        await _give_up(ctx, batch, reason, now)
        return
    progress = Progress(status.done, status.total or batch.request_count, now - (batch.submitted_at or now))
    interval = ctx.poll_policy.next_interval(batch.poll_interval, progress)  # sooner near an expected end
    started = batch_state(batch.provider, status.raw_status) in RUNNING_STATES  # its time to start, once
    await ctx.store.record_progress(batch.id, status, interval=interval, now=now, started=started)
    mark("polled", batch=batch.id, done=status.done, interval=interval)
    if (status.done, status.failed) != (batch.done_count, batch.failed_count):
        await ctx.bus.publish(
            BatchProgress(
                batch_id=batch.id,
                provider=batch.provider.value,
                done=status.done,
                failed=status.failed,
                total=batch.request_count,
            )
        )


async def _poll_failed(ctx: EngineContext, batch: BatchRow, exc: ProviderError, now: float) -> None:
    failures = batch.poll_failures + 1
    reason = (
        ctx.poll_policy.gives_up(failures=failures, submitted_at=_utc(batch.submitted_at or now), now=_utc(now))
        if exc.retryable and not exc.setup
        else "the provider refused the status call"  # e.g. not found: waiting will not help
    )
    if reason is not None:
        await _give_up(ctx, batch, f"{reason}: {exc}", now)
        return
    delay = ctx.poll_policy.failure_delay(failures)
    log.warning("status of batch %s failed (%s); next try in %.1fs", batch.id, exc, delay)
    await ctx.store.back_off(batch.id, failures, retry_at=now + delay, error=str(exc), polled=True)


async def _give_up(ctx: EngineContext, batch: BatchRow, reason: str, now: float) -> None:
    """End a batch we can no longer wait for; its requests expire (and may go out again)."""
    log.error("giving up batch %s: %s", batch.id, reason)
    if batch.remote is not None:
        try:
            with provider_call(batch.provider.value, "cancel"):
                await ctx.provider(batch.provider).cancel(batch.remote)
        except ProviderError as exc:
            log.warning("could not cancel abandoned batch %s: %s", batch.id, exc)
    await ctx.store.give_up(batch.id, reason, now)
    await _collect(ctx, await ctx.store.get_batch(batch.id), fetch=False)


async def _mark_ended(ctx: EngineContext, batch: BatchRow, status: RemoteStatus, now: float) -> None:
    await ctx.store.mark_ended(batch.id, status, now)
    state = batch_state(batch.provider, status.raw_status, status.ended_as)
    ended = BatchEnded(
        batch_id=batch.id,
        provider=batch.provider.value,
        status=status.raw_status,
        error=status.error,
        state=state.value if state is not None else None,
    )
    await ctx.bus.publish(ended)


async def _collect(ctx: EngineContext, batch: BatchRow, *, fetch: bool = True) -> None:
    now = clock.now()
    try:
        await collect(ctx, batch, fetch=fetch and not batch.given_up)
    except ProviderError as exc:
        if storage_failure(exc) is not None:  # our disk, not the provider: the worker pauses (storage.py)
            raise
        failures = batch.poll_failures + 1
        # results stay at the provider for days: a passing outage is waited out, not paid twice
        hopeless = not exc.retryable and failures >= ctx.poll_policy.max_failures
        if hopeless or ctx.poll_policy.unreachable(failures):
            log.error("results of batch %s unreadable after %d tries: %s", batch.id, failures, exc)
            await collect(ctx, batch, fetch=False, error=f"results unreadable: {exc}")
            return
        delay = ctx.poll_policy.failure_delay(failures)
        log.warning("results of batch %s not read (%s); next try in %.1fs", batch.id, exc, delay)
        # not `error`: that column says the batch itself failed, and collection would read nothing
        await ctx.store.back_off(batch.id, failures, retry_at=now + delay)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
