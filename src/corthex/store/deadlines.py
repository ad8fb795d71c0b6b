"""The store's side of deadlines (issue 17): the running jobs with one and their open batches,
the turnaround of past batches, and the marks that make a move happen once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from corthex.domain.batches import BatchStatus
from corthex.domain.jobs import JobStatus, RequestState, TierCounts
from corthex.domain.records import BatchRow, DeadlineJob, JobProgress
from corthex.domain.turnaround import PastBatch
from corthex.store.connection import SqlBase
from corthex.store.polling import GIVEN_UP, batch_from_row
from corthex.store.tables import batches, jobs, requests, results


class DeadlineSection(SqlBase):
    async def deadline_jobs(self, *, limit: int = 1000) -> list[DeadlineJob]:
        """Running jobs with a deadline: each with its requests still queued (those going by batch
        and those marked late apart) and its batches at a provider that still hold some of its
        requests."""
        query = (
            select(jobs.c.id, jobs.c.deadline, jobs.c.deadline_margin, jobs.c.hurried_at)
            .where(jobs.c.status == JobStatus.RUNNING.value, jobs.c.deadline.is_not(None))
            .order_by(jobs.c.deadline)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).all()
            found_jobs = []
            for r in found:
                queued, open_batches, held = await _work(conn, r.id)
                fast = await _queued(conn, r.id, hurried=True)
                margin = r.deadline_margin or 0.0
                found_jobs.append(DeadlineJob(r.id, r.deadline, margin, bool(fast), queued, open_batches, held, fast))
            return found_jobs

    async def job_progress(self, job_id: str) -> JobProgress | None:
        """Where the job stands: done, or its queued requests and open batches (None: no such job)."""
        columns = (jobs.c.completed_at, jobs.c.realtime, jobs.c.hurried_at, jobs.c.deadline)
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*columns).where(jobs.c.id == job_id))).first()
            if row is None:
                return None
            queued, open_batches, _ = await _work(conn, job_id, hurried=None)
        hurried = row.hurried_at is not None
        return JobProgress(job_id, row.completed_at, bool(row.realtime), hurried, row.deadline, queued, open_batches)

    async def turnaround_history(self, *, limit: int = 2000) -> list[PastBatch]:
        """The most recent batches that ended on their own (not canceled for a deadline, not given
        up, not failed): provider, model, size, seconds from creation at the provider to end."""
        ended = batches.c.ended_at
        query = (
            select(
                batches.c.provider,
                batches.c.model,
                batches.c.request_count,
                batches.c.submitted_at,
                batches.c.started_at,
                ended,
            )
            .where(
                batches.c.status == BatchStatus.COLLECTED.value,
                batches.c.submitted_at.is_not(None),
                ended.is_not(None),
                batches.c.moved_at.is_(None),
                batches.c.error.is_(None),
                or_(batches.c.raw_status.is_(None), batches.c.raw_status != GIVEN_UP),
                or_(batches.c.ended_as.is_(None), batches.c.ended_as == "succeeded"),
            )
            .order_by(ended.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_past(r) for r in rows]

    async def hurry(
        self, job_id: str, now: float, *, batch_id: str | None = None, group: tuple[str, str] | None = None
    ) -> int:
        """Mark late the job's requests held in `batch_id` (they come back as retries when it is
        canceled), or its queued requests of `group` (provider, model): they stop going into
        batches; the job's other requests keep going by batch. The job's `hurried_at` says when
        it was first found late. How many requests were marked."""
        late = [requests.c.job_id == job_id, requests.c.hurried.is_(False)]
        if batch_id is not None:
            late.append(requests.c.batch_id == batch_id)
        elif group is not None:
            late += [
                requests.c.provider == group[0],
                requests.c.model == group[1],
                requests.c.state == RequestState.QUEUED.value,
            ]
        else:
            raise ValueError("hurry needs a batch or a (provider, model) group")
        async with self.engine.begin() as conn:  # one transaction: both marks or neither
            done = await conn.execute(update(requests).where(*late).values(hurried=True))
            await conn.execute(
                update(jobs).where(jobs.c.id == job_id, jobs.c.hurried_at.is_(None)).values(hurried_at=now)
            )
        return int(done.rowcount)

    async def mark_moving(self, batch_id: str, now: float, *, again_after: float) -> bool:
        """Mark an open batch as canceled for a deadline, unless that was done less than
        `again_after` seconds ago (a cancel that failed, or a crash before it, is tried again).
        Whether the caller is to cancel it now."""
        stale = or_(batches.c.moved_at.is_(None), batches.c.moved_at <= now - again_after)
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == BatchStatus.SUBMITTED.value, stale)
                .values(moved_at=now)
            )
        return bool(done.rowcount)


def deadline_columns(deadline: tuple[float, float] | None) -> dict[str, float | None]:
    """The `deadline` and `deadline_margin` columns of a job or a chain from (Unix time, margin)."""
    return {"deadline": deadline[0] if deadline else None, "deadline_margin": deadline[1] if deadline else None}


def _past(row: Any) -> PastBatch:
    start = None if row.started_at is None else max(row.started_at - row.submitted_at, 0.0)
    return PastBatch(
        row.provider, row.model, row.request_count, max(row.ended_at - row.submitted_at, 0.0), start_seconds=start
    )


def tier_of_result() -> Any:
    """The tier that answered a result; rows stored before migration 0018 have none: a realtime
    job's pseudo-batch (`rt_…`) says realtime, anything else was a batch."""
    return func.coalesce(
        results.c.tier, case((results.c.batch_id.like("rt\\_%", escape="\\"), "realtime"), else_="batch")
    )


async def tier_counts(conn: AsyncConnection, job_id: str) -> dict[str, TierCounts]:
    """Per tier: the job's results, their cost, and their cost in a batch (a batch result's own)."""
    tier = tier_of_result().label("tier")
    in_batch = func.coalesce(results.c.batch_cost_usd, results.c.cost_usd, 0.0)
    query = (
        select(tier, func.count().label("n"), func.sum(results.c.cost_usd).label("cost"), func.sum(in_batch).label("b"))
        .where(results.c.job_id == job_id)
        .group_by(tier)
    )
    rows = (await conn.execute(query)).all()
    return {r.tier: TierCounts(int(r.n), float(r.cost or 0.0), float(r.b or 0.0)) for r in rows}


async def _queued(conn: AsyncConnection, job_id: str, *, hurried: bool | None) -> dict[tuple[str, str], int]:
    """The job's queued requests by (provider, model): those marked late (`hurried`), those
    going by batch (not), or all (None)."""
    where = [requests.c.job_id == job_id, requests.c.state == RequestState.QUEUED.value]
    if hurried is not None:
        where.append(requests.c.hurried.is_(hurried))
    query = (
        select(requests.c.provider, requests.c.model, func.count().label("n"))
        .where(*where)
        .group_by(requests.c.provider, requests.c.model)
    )
    return {(r.provider, r.model): int(r.n) for r in (await conn.execute(query)).all()}


async def _work(
    conn: AsyncConnection, job_id: str, *, hurried: bool | None = False
) -> tuple[dict[tuple[str, str], int], tuple[BatchRow, ...], dict[str, int]]:
    """(the job's queued requests by provider and model — by default those going by batch —,
    its open batches at a provider, its live requests in each batch)."""
    queued = await _queued(conn, job_id, hurried=hurried)
    held_query = (
        select(requests.c.batch_id, func.count().label("n"))
        .where(requests.c.job_id == job_id, requests.c.state == RequestState.IN_BATCH.value)
        .group_by(requests.c.batch_id)
    )
    held = {r.batch_id: int(r.n) for r in (await conn.execute(held_query)).all() if r.batch_id is not None}
    rows = (
        (
            await conn.execute(
                select(batches).where(
                    and_(batches.c.id.in_(list(held)), batches.c.status == BatchStatus.SUBMITTED.value)
                )
            )
        ).all()
        if held
        else []
    )
    return queued, tuple(batch_from_row(r) for r in rows), held
