"""The store's dispatch: requests ready to go out, batch intents and their creation at the
provider (recorded, failed or unconfirmed), and realtime jobs' sending leases."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from corthex import clock
from corthex.domain.batches import BatchStatus, RemoteRef
from corthex.domain.jobs import JobStatus, RequestState
from corthex.domain.planning import PlanItem
from corthex.domain.requests import ProviderName
from corthex.store import leases
from corthex.store.connection import SqlBase
from corthex.store.rows import RETURNED, chunks, error_text, failed_row
from corthex.store.tables import batches, jobs, requests, results


class DispatchSection(SqlBase):
    async def dispatchable(self, now: float, limit: int = 200_000) -> list[PlanItem]:
        """Requests ready to go out: queued, in a running job, past any backoff, and not held for
        a priming batch that has not ended yet."""
        priming = batches.alias("priming")
        query = (
            select(
                requests.c.id,
                requests.c.provider,
                requests.c.model,
                requests.c.size,
                requests.c.route,
                requests.c.inputs,
                requests.c.cache_group,
                requests.c.held_by,
            )
            .join(jobs, jobs.c.id == requests.c.job_id)
            .outerjoin(priming, priming.c.id == requests.c.held_by)
            .where(
                requests.c.state == RequestState.QUEUED.value,
                jobs.c.status == JobStatus.RUNNING.value,
                jobs.c.realtime.is_(False),
                requests.c.hurried.is_(False),  # late for its deadline: engine/deadlines.py sends it
                or_(requests.c.not_before.is_(None), requests.c.not_before <= now),
                or_(priming.c.id.is_(None), priming.c.status.in_(PRIMING_OVER)),
            )
            .order_by(requests.c.job_id, requests.c.seq)
            .limit(limit)
        )
        # Streamed: a round's rows were all buffered beside the plan items made of them (issue 18).
        async with self.engine.connect() as conn:
            rows = await conn.stream(query.execution_options(yield_per=1000))
            return [_plan_item(r) async for r in rows]

    async def next_dispatch_at(self) -> float | None:
        """When the earliest backed-off request becomes ready (None if nothing waits)."""
        query = (
            select(func.min(requests.c.not_before))
            .join(jobs, jobs.c.id == requests.c.job_id)
            .where(
                requests.c.state == RequestState.QUEUED.value,
                jobs.c.status == JobStatus.RUNNING.value,
                requests.c.hurried.is_(False),
            )
        )
        async with self.engine.connect() as conn:
            earliest: float | None = (await conn.execute(query)).scalar()
        return earliest

    async def open_batch(
        self,
        batch_id: str,
        provider: ProviderName,
        model: str | None,
        request_ids: Sequence[str],
        *,
        now: float,
        owner: str,
        lease: float,
        hold: Sequence[str] = (),
    ) -> int:
        """Record the intent to create a batch, leased to `owner`, and assign the requests still
        queued to it. Returns how many it took (another worker may have taken some first).
        `hold`: requests (still queued, held by no other batch) kept back until this batch has
        ended — a priming batch's — in the same transaction, so a crash leaves both or neither."""
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(batches).values(
                    id=batch_id,
                    provider=provider.value,
                    model=model,
                    status=BatchStatus.INTENT.value,
                    request_count=0,
                    done_count=0,
                    failed_count=0,
                    poll_failures=0,
                    poll_count=0,
                    error_retryable=False,
                    created_at=now,
                    lease_owner=owner,
                    lease_until=now + lease,
                )
            )
            taken = 0
            for chunk in chunks(request_ids):
                result = await conn.execute(
                    update(requests)
                    .where(self._queued_among(chunk), requests.c.state == RequestState.QUEUED.value)
                    .values(state=RequestState.IN_BATCH.value, batch_id=batch_id, attempts=requests.c.attempts + 1)
                )
                taken += result.rowcount
            if taken:  # an empty intent is discarded: nothing may wait for it
                await _hold(conn, hold, batch_id)
            # the lease runs from now: taking many requests may have taken a while
            await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(request_count=taken, lease_until=max(now, clock.now()) + lease)
            )
            return taken

    def _queued_among(self, ids: Sequence[str]) -> Any:
        """`id IN ids`; on PostgreSQL only the rows no other worker is taking right now
        (FOR UPDATE SKIP LOCKED), so concurrent dispatchers split the queue instead of waiting."""
        if self._dialect != "postgresql":
            return requests.c.id.in_(ids)
        free = (
            select(requests.c.id)
            .where(requests.c.id.in_(ids), requests.c.state == RequestState.QUEUED.value)
            .with_for_update(skip_locked=True)
        )
        return requests.c.id.in_(free)

    async def batch_bodies(self, batch_id: str) -> list[tuple[str, bytes]]:
        """(wire id, canonical request JSON) of every request assigned to the batch."""
        query = (
            select(requests.c.id, requests.c.body)
            .where(requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value)
            .order_by(requests.c.job_id, requests.c.seq)
        )
        # Streamed, a few hundred rows at a time: only the encoded bodies are kept, never every row
        # object (its text twice as large as its UTF-8 for Korean) alongside them (issue 14).
        async with self.engine.connect() as conn:
            rows = await conn.stream(query.execution_options(yield_per=1000))
            return [(r.id, r.body.encode()) async for r in rows]

    async def mark_submitted(self, batch_id: str, ref: RemoteRef, now: float, first_poll: float) -> bool:
        """Record that the intent exists at its provider as `ref`. False if it was recorded
        already (with another provider batch: `ref` is then a duplicate, to be canceled)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == BatchStatus.INTENT.value)
                .values(
                    status=BatchStatus.SUBMITTED.value,
                    poll_failures=0,
                    error=None,
                    remote=orjson.dumps(ref.to_dict()).decode(),
                    submitted_at=now,
                    next_poll_at=now + first_poll,
                    poll_interval=first_poll,
                )
            )
            return result.rowcount == 1

    async def submission_failed(
        self,
        batch_id: str,
        error: str,
        *,
        retry_at: float,
        max_failures: int,
        now: float,
        fallback: Callable[[str], str | None] | None = None,
    ) -> list[str]:
        """Creation failed: the batch is abandoned and its requests go back to the queue after a
        backoff. Requests that failed creation `max_failures` times get a failed result (their
        ids are returned) — unless `fallback(model)` names the next provider of their route:
        then they are queued there, with their attempts and creation tries anew."""
        error = error_text(error)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(status=BatchStatus.ABANDONED.value, error=error, ended_at=now)
            )
            base = and_(requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value)
            given_up = (
                await conn.execute(
                    update(requests)
                    .where(base, requests.c.submit_failures + 1 >= max_failures)
                    .values(state=RequestState.DONE.value, submit_failures=requests.c.submit_failures + 1)
                    .returning(*RETURNED)
                )
            ).all()
            given_up = await _move_on(conn, given_up, fallback, error)
            if given_up:
                await conn.execute(
                    self._insert(results).on_conflict_do_nothing(),
                    [failed_row(r, "submission_failed", error, now, batch_id) for r in given_up],
                )
            await conn.execute(
                update(requests)
                .where(base)
                .values(
                    state=RequestState.QUEUED.value,
                    batch_id=None,
                    not_before=retry_at,
                    attempts=requests.c.attempts - 1,
                    submit_failures=requests.c.submit_failures + 1,
                    last_error=error,
                )
            )
            return [r.id for r in given_up]

    async def creation_unconfirmed(self, batch_id: str, error: str, *, retry_at: float) -> None:
        """A create call failed in a way that may still have created the batch: the intent stays,
        unleased but untouchable until `retry_at`, when the poller looks for it at the provider.
        Counts as one failed creation for its requests."""
        error = error_text(error)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == BatchStatus.INTENT.value)
                .values(error=error, lease_owner=None, lease_until=retry_at)
            )
            await conn.execute(
                update(requests)
                .where(requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value)
                .values(submit_failures=requests.c.submit_failures + 1, last_error=error)
            )

    async def discard_empty_intent(self, batch_id: str) -> None:
        """Forget an intent that took no request (another worker took them all first): it was
        never sent, and a row of 0 requests would only crowd `GET /batches`."""
        async with self.engine.begin() as conn:
            holds = select(requests.c.id).where(requests.c.batch_id == batch_id).limit(1)
            await conn.execute(
                batches.delete().where(
                    batches.c.id == batch_id,
                    batches.c.status == BatchStatus.INTENT.value,
                    ~holds.exists(),
                )
            )

    async def known_remote_ids(self, provider: ProviderName, since: float) -> set[str]:
        """Remote ids of this provider's batches recorded since `since` (for orphan matching)."""
        query = select(batches.c.remote).where(
            batches.c.provider == provider.value, batches.c.created_at >= since, batches.c.remote.is_not(None)
        )
        async with self.engine.connect() as conn:
            return {RemoteRef.from_dict(orjson.loads(r)).remote_id for r in (await conn.execute(query)).scalars()}

    async def max_submit_failures(self, batch_id: str) -> int:
        """How many times the batch's requests have already failed creation."""
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(select(func.max(requests.c.submit_failures)).where(requests.c.batch_id == batch_id))
            ).scalar()
        return int(value or 0)

    async def claim_sending(self, job_id: str, owner: str, now: float, lease: float) -> bool:
        """Lease a realtime job to the process about to send its calls (or renew its lease),
        unless another live process is sending them."""
        statement = leases.take(jobs, jobs.c.id == job_id, owner=owner, now=now, lease=lease)
        return await leases.one_row(self.engine, statement)

    async def release_sending(self, job_id: str, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(leases.let_go(jobs, jobs.c.id == job_id, owner=owner))

    async def take_realtime(self, job_id: str, batch_id: str, *, hurried_only: bool = False) -> list[tuple[str, bytes]]:
        """Assign a realtime job's unsettled requests to its pseudo-batch (`hurried_only`: only
        those marked late for the job's deadline, engine/deadlines.py); return every request the
        pseudo-batch still owes."""
        taken = [requests.c.job_id == job_id, requests.c.state == RequestState.QUEUED.value]
        if hurried_only:
            taken.append(requests.c.hurried.is_(True))
        async with self.engine.begin() as conn:
            await conn.execute(
                update(requests)
                .where(*taken)
                .values(state=RequestState.IN_BATCH.value, batch_id=batch_id, attempts=requests.c.attempts + 1)
            )
        return await self.batch_bodies(batch_id)


def _plan_item(r: Any) -> PlanItem:
    """One per queued request: its model, route and cache group are shared strings (the driver
    gives every row its own copy: 100,000 copies of one model name were ~6 MB)."""
    primed = r.held_by is not None
    route, group = _shared(r.route), _shared(r.cache_group)
    return PlanItem(r.id, ProviderName(r.provider), sys.intern(r.model), r.size, route, r.inputs or 1, group, primed)


def _shared(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


#: a priming batch in one of these states no longer holds its requests back: its answers are in
#: (or it was never created, and they go as they are)
PRIMING_OVER = (BatchStatus.ENDED.value, BatchStatus.COLLECTED.value, BatchStatus.ABANDONED.value)


async def _hold(conn: AsyncConnection, request_ids: Sequence[str], batch_id: str) -> None:
    for chunk in chunks(request_ids):
        await conn.execute(
            update(requests)
            .where(
                requests.c.id.in_(chunk),
                requests.c.state == RequestState.QUEUED.value,
                requests.c.held_by.is_(None),
            )
            .values(held_by=batch_id)
        )


async def _move_on(
    conn: AsyncConnection, given_up: Sequence[Row[Any]], fallback: Callable[[str], str | None] | None, error: str
) -> list[Row[Any]]:
    """Of the requests given up on this provider, queue those whose route goes on at the next
    provider (anew there); return the rest, which fail."""
    if fallback is None:
        return list(given_up)
    staying = []
    for row in given_up:
        provider = fallback(row.model)
        if provider is None:
            staying.append(row)
            continue
        await conn.execute(
            update(requests)
            .where(requests.c.id == row.id)
            .values(
                state=RequestState.QUEUED.value,
                batch_id=None,
                not_before=None,
                provider=provider,
                attempts=0,
                submit_failures=0,
                last_error=error_text(f"{error} (on {row.provider}; sent to {provider})"),
            )
        )
    return staying
