"""The store's polling: which batches are due and who holds them (leases), and what a poll
found, in verbs: progress, the end, a backoff, giving up, polling soon."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, and_, case, func, or_, select, update

from corthex import clock
from corthex.domain.batches import BatchStatus, RemoteRef, RemoteState, RemoteStatus
from corthex.domain.jobs import JobStatus
from corthex.domain.records import BatchRow
from corthex.domain.requests import ProviderName
from corthex.domain.results import ResultStatus
from corthex.errors import NotFound
from corthex.store import leases
from corthex.store.connection import SqlBase
from corthex.store.rows import error_text
from corthex.store.tables import batches, jobs, requests, results


class PollingSection(SqlBase):
    async def due_batches(self, now: float, limit: int = 100) -> list[BatchRow]:
        """Open batches that need attention now: polls due, results to collect, unconfirmed
        creations."""
        query = select(batches).where(_due(now)).order_by(batches.c.next_poll_at).limit(limit)
        async with self.engine.connect() as conn:
            return [batch_from_row(r) for r in (await conn.execute(query)).all()]

    async def claim_due(
        self, now: float, owner: str, lease: float, limit: int = 100, *, intents: bool = True
    ) -> list[BatchRow]:
        """Lease the batches due now to `owner` and return them, in one statement (on PostgreSQL
        with FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint sets without waiting).
        `intents=False` leaves batches not yet confirmed at the provider alone (a read creates none)."""
        free = select(batches.c.id).where(_due(now, intents=intents)).order_by(batches.c.next_poll_at).limit(limit)
        if self._dialect == "postgresql":  # SQLite has one writer: its UPDATE is atomic as it is
            free = free.with_for_update(skip_locked=True)
        query = (
            update(batches)
            .where(batches.c.id.in_(free))
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(*batches.c)
        )
        async with self.engine.begin() as conn:
            return [batch_from_row(r) for r in (await conn.execute(query)).all()]

    async def defer(self, batch_id: str, owner: str, until: float) -> None:
        """Let go of the batch, but let no worker touch it before `until` (a backoff)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=until)
            )

    async def next_poll_at(self) -> float | None:
        """When the next batch is due and free: a batch leased (in hand here or at another
        worker) counts from its lease's end, so a sleeper does not spin on work taken."""
        free_at = case(
            (batches.c.lease_until > batches.c.next_poll_at, batches.c.lease_until), else_=batches.c.next_poll_at
        )
        polled = batches.c.status.in_([BatchStatus.SUBMITTED.value, BatchStatus.ENDED.value])
        async with self.engine.connect() as conn:
            due: float | None = (await conn.execute(select(func.min(free_at)).where(polled))).scalar()
        return due

    async def has_open_work(self) -> bool:
        async with self.engine.connect() as conn:
            open_batch = (await conn.execute(select(batches.c.id).where(batches.c.status.in_(_OPEN)).limit(1))).first()
            running = (
                await conn.execute(select(jobs.c.id).where(jobs.c.status == JobStatus.RUNNING.value).limit(1))
            ).first()
            return open_batch is not None or running is not None

    async def claim(self, batch_id: str, owner: str, now: float, lease: float) -> bool:
        """Take the batch for `lease` seconds unless another worker holds it."""
        return await leases.one_row(
            self.engine, leases.take(batches, batches.c.id == batch_id, owner=owner, now=now, lease=lease)
        )

    async def claim_intent(self, batch_id: str, owner: str, now: float, lease: float, *, window: float) -> bool:
        """`claim`, but only while the batch is still an intent: the fence right before its
        creation. A worker that stalled past its lease must not take back an intent that another
        worker has meanwhile created, recorded and let go of (that would create it twice).
        No other worker looks at the intent for `window` seconds: the creation may be in flight
        for that long, even if this worker's lease runs out meanwhile (a stalled event loop, a
        busy host), and a batch still being created cannot be found to be adopted."""
        still_intent = batches.c.status == BatchStatus.INTENT.value
        statement = leases.take(batches, batches.c.id == batch_id, still_intent, owner=owner, now=now, lease=lease)
        return await leases.one_row(self.engine, statement.values(next_poll_at=now + window))

    async def release(self, batch_id: str, owner: str) -> None:
        await leases.one_row(self.engine, leases.let_go(batches, batches.c.id == batch_id, owner=owner))

    async def get_batch(self, batch_id: str) -> BatchRow:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).first()
        if row is None:
            raise NotFound("batch", batch_id)
        return batch_from_row(row)

    async def list_batches(self, *, job_id: str | None = None, limit: int = 200) -> list[BatchRow]:
        query = select(batches).order_by(batches.c.created_at.desc()).limit(limit)
        if job_id is not None:
            ids = select(requests.c.batch_id).where(requests.c.job_id == job_id).distinct()
            in_results = select(results.c.batch_id).where(results.c.job_id == job_id).distinct()
            query = query.where(or_(batches.c.id.in_(ids), batches.c.id.in_(in_results)))
        async with self.engine.connect() as conn:
            return [batch_from_row(r) for r in (await conn.execute(query)).all()]

    async def batch_shares(self, job_id: str) -> dict[str, tuple[int, int]]:
        """For each batch that carries the job's requests: (how many of them are the job's, how many
        other jobs have requests in it). A batch is shared when queued jobs went out together."""
        mine_q = (
            select(requests.c.batch_id, func.count().label("mine"))
            .where(requests.c.job_id == job_id, requests.c.batch_id.is_not(None))
            .group_by(requests.c.batch_id)
        )
        async with self.engine.connect() as conn:
            mine = {r.batch_id: int(r.mine) for r in (await conn.execute(mine_q)).all()}
            others_q = (
                select(requests.c.batch_id, func.count(func.distinct(requests.c.job_id)).label("others"))
                .where(requests.c.batch_id.in_(list(mine)), requests.c.job_id != job_id)
                .group_by(requests.c.batch_id)
            )
            others = {r.batch_id: int(r.others) for r in (await conn.execute(others_q)).all()} if mine else {}
        return {batch_id: (count, others.get(batch_id, 0)) for batch_id, count in mine.items()}

    # -- what a look at the batch found ----------------------------------------------------------

    async def record_progress(
        self, batch_id: str, status: RemoteStatus, *, interval: float, now: float, started: bool = False
    ) -> None:
        """A poll found the batch still running: its counts, and the next poll `interval` from now;
        `started`: the provider runs it (the first such poll's time is kept as its start)."""
        started_at = func.coalesce(batches.c.started_at, now) if started else batches.c.started_at
        await self._update_batch(
            batch_id,
            started_at=started_at,
            raw_status=status.raw_status,
            done_count=status.done,
            failed_count=status.failed,
            poll_failures=0,
            poll_count=batches.c.poll_count + 1,
            poll_interval=interval,
            next_poll_at=now + interval,
        )

    async def mark_ended(self, batch_id: str, status: RemoteStatus, now: float) -> None:
        """A poll found the batch ended (or failed as a whole): its results are collected next."""
        await self._update_batch(
            batch_id,
            status=BatchStatus.ENDED.value,
            raw_status=status.raw_status,
            ended_as=status.ended_as.value if status.ended_as else None,
            done_count=status.done,
            failed_count=status.failed,
            ended_at=now,
            next_poll_at=now,
            error=status.error if status.state is RemoteState.FAILED else None,
            error_retryable=status.retryable,
            poll_count=batches.c.poll_count + 1,
            poll_failures=0,
        )

    async def give_up(self, batch_id: str, reason: str, now: float) -> None:
        """Stop waiting for the batch: it ends now, its results are not fetched and its requests
        expire (`BatchRow.given_up`)."""
        await self._update_batch(
            batch_id,
            status=BatchStatus.ENDED.value,
            ended_as=ResultStatus.EXPIRED.value,
            error=f"given up: {reason}",
            raw_status=GIVEN_UP,
            next_poll_at=now,
            ended_at=now,
        )

    async def back_off(
        self, batch_id: str, failures: int, *, retry_at: float, error: str | None = None, polled: bool = False
    ) -> None:
        """A call about the batch failed for the `failures`-th time in a row: look again at
        `retry_at`. `error` (if given) is why; `polled`: the failed call was a status call."""
        values: dict[str, Any] = {"poll_failures": failures, "next_poll_at": retry_at}
        if error is not None:
            values["error"] = error
        if polled:
            values["poll_count"] = batches.c.poll_count + 1
        await self._update_batch(batch_id, **values)

    async def lookup_failed(self, batch_id: str, owner: str, failures: int, *, error: str, retry_at: float) -> None:
        """Looking for an unconfirmed intent at its provider failed: let go of it until `retry_at`
        (never created blind meanwhile)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(batches).where(batches.c.id == batch_id).values(poll_failures=failures, error=error_text(error))
            )
            await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=retry_at)
            )

    async def poll_soon(self, batch_id: str) -> None:
        """Look at the batch on the next round (a webhook said it changed, or it was canceled)."""
        await self._update_batch(batch_id, next_poll_at=clock.now())


_OPEN = [s.value for s in BatchStatus if s.is_open]

#: `raw_status` of a batch we gave up on, as stored since the first schema (`BatchRow.given_up`)
GIVEN_UP = "given_up"


def batch_from_row(row: Row[Any]) -> BatchRow:
    m = row._mapping
    remote = RemoteRef.from_dict(orjson.loads(m["remote"])) if m["remote"] else None
    skipped = ("provider", "status", "remote", "given_up", "state")
    fields = {k: m[k] for k in BatchRow.__slots__ if k not in skipped}
    return BatchRow(
        provider=ProviderName(m["provider"]),
        status=BatchStatus(m["status"]),
        remote=remote,
        given_up=m["raw_status"] == GIVEN_UP,
        **fields,
    )


def _due(now: float, *, intents: bool = True) -> Any:
    """Batches to work on now and free to take: polls due, results to collect, and (with
    `intents`) intents whose lease ran out (their creator died mid-way, or a failed creation's
    backoff is over) and whose creation, if one was started, cannot be in flight any more
    (`claim_intent`)."""
    polled = [BatchStatus.SUBMITTED.value, BatchStatus.ENDED.value]
    not_creating = or_(batches.c.next_poll_at.is_(None), batches.c.next_poll_at <= now)
    due = and_(batches.c.status.in_(polled), batches.c.next_poll_at <= now)
    if intents:
        due = or_(due, and_(batches.c.status == BatchStatus.INTENT.value, not_creating))
    unleased = or_(batches.c.lease_until.is_(None), batches.c.lease_until < now)
    return and_(due, unleased)
