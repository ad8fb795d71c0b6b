"""The store's jobs: recording a submission with its requests, reading jobs back, the queue,
cancelling, and marking jobs complete once every request has a result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from corthex import clock
from corthex.domain.batches import BatchStatus
from corthex.domain.jobs import Cancellation, JobStatus, JobSummary, ProviderCounts, RequestState
from corthex.errors import AlreadyExists, JobFinished, KeyTaken, NotFound
from corthex.store.connection import SqlBase
from corthex.store.deadlines import tier_counts
from corthex.store.rows import CHUNK, RETURNED, canceled_row, chunks, duplicate
from corthex.store.tables import batches, jobs, requests, results


class JobSection(SqlBase):
    async def add_job(
        self,
        job_id: str,
        *,
        source: str,
        status: JobStatus,
        label: str | None,
        total: int,
        chunks: Iterable[Sequence[dict[str, Any]]],
        realtime: bool = False,
        estimate_usd: float | None = None,
        idempotency_key: str | None = None,
        request_digest: str | None = None,
        retry_of: str | None = None,
        deadline: tuple[float, float] | None = None,
    ) -> None:
        """Record a job and its requests in one transaction (all or nothing).

        :raises KeyTaken: a job with `idempotency_key` exists (nothing was recorded).
        :raises AlreadyExists: a job with this id exists (e.g. a chain step another worker
            submitted a moment ago); nothing was recorded."""
        # with a key, a concurrent twin waits for this one and then inserts nothing
        job = (self._insert(jobs).on_conflict_do_nothing() if idempotency_key else insert(jobs)).values(
            id=job_id,
            status=status.value,
            source=source,
            total=total,
            label=label,
            created_at=clock.now(),
            realtime=realtime,
            estimate_usd=estimate_usd,
            idempotency_key=idempotency_key,
            request_digest=request_digest,
            retry_of=retry_of,
            deadline=deadline[0] if deadline else None,
            deadline_margin=deadline[1] if deadline else None,
        )
        try:
            async with self.engine.begin() as conn:
                if (await conn.execute(job)).rowcount != 1:
                    raise KeyTaken(idempotency_key or "")
                await _add_requests(conn, job_id, chunks)
        except IntegrityError as exc:
            if not duplicate(exc):
                raise
            raise AlreadyExists("job", job_id) from None

    async def job_for_key(self, idempotency_key: str) -> tuple[str, str | None] | None:
        """(job id, request digest) of the job submitted with this Idempotency-Key, if any."""
        query = select(jobs.c.id, jobs.c.request_digest).where(jobs.c.idempotency_key == idempotency_key)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.id, row.request_digest)

    async def get_job(self, job_id: str) -> JobSummary:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
            if row is None:
                raise NotFound("job", job_id)
            return await _summary(conn, row)

    async def list_jobs(
        self, *, limit: int = 50, status: JobStatus | None = None, before: str | None = None
    ) -> list[JobSummary]:
        """Jobs, newest first; with `before` (a job id: the last of the previous page), those older."""
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        async with self.engine.connect() as conn:
            if before is not None:
                created = await conn.scalar(select(jobs.c.created_at).where(jobs.c.id == before))
                if created is None:
                    raise NotFound("job", before)
                older = or_(jobs.c.created_at < created, and_(jobs.c.created_at == created, jobs.c.id < before))
                query = query.where(older)
            rows = (await conn.execute(query)).all()
            return [await _summary(conn, row) for row in rows]

    async def requests_with_results(self, job_id: str, statuses: Sequence[str]) -> list[str]:
        """The stored bodies of the job's requests whose result has one of `statuses`, in input order."""
        query = (
            select(requests.c.body)
            .join(results, results.c.request_id == requests.c.id)
            .where(requests.c.job_id == job_id, results.c.status.in_(list(statuses)))
            .order_by(requests.c.seq)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def release_queued(self) -> int:
        """Flush: every queued job starts running. Returns the number of requests released."""
        async with self.engine.begin() as conn:
            count = await _queued_request_count(conn)
            await conn.execute(
                update(jobs).where(jobs.c.status == JobStatus.QUEUED.value).values(status=JobStatus.RUNNING.value)
            )
            return count

    async def job_count(self, status: JobStatus) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).where(jobs.c.status == status.value))).scalar_one()

    async def queue_stats(self) -> tuple[int, float | None]:
        """(requests waiting in queued jobs, creation time of the oldest queued job)."""
        async with self.engine.connect() as conn:
            count = await _queued_request_count(conn)
            oldest = (
                await conn.execute(select(func.min(jobs.c.created_at)).where(jobs.c.status == JobStatus.QUEUED.value))
            ).scalar()
            return count, oldest

    async def cancel_job(self, job_id: str, now: float) -> Cancellation:
        """Mark the job canceled. Every request of it without a result gets a `canceled` one at
        once: queued ones are never sent; ones in a batch (being created, or at its provider)
        are dropped from it, and whatever the batch returns for them later is discarded.

        :raises JobFinished: the job had ended (completed or canceled); nothing is changed.
        Returns the counts and the open batches left with no live request (to cancel remotely;
        a batch still being created is canceled by its creator once the create returns)."""
        async with self.engine.begin() as conn:
            open_statuses = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
            found = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status.in_(open_statuses))
                .values(status=JobStatus.CANCELED.value)
            )
            if found.rowcount == 0:  # unknown, or ended already: a finished job stays as it is
                status = await conn.scalar(select(jobs.c.status).where(jobs.c.id == job_id))
                raise NotFound("job", job_id) if status is None else JobFinished(job_id, status)
            already = await conn.scalar(select(func.count()).select_from(results).where(results.c.job_id == job_id))
            rows = await _cancel_requests(conn, job_id, RequestState.QUEUED, now, "job canceled before submission")
            in_batch = await _cancel_requests(
                conn, job_id, RequestState.IN_BATCH, now, "job canceled; what its batch returns for it is discarded"
            )
            rows += in_batch
            for chunk in chunks(rows):
                await conn.execute(self._insert(results).on_conflict_do_nothing(), list(chunk))
            emptied = await _emptied_batches(conn, {r["batch_id"] for r in in_batch})
            return Cancellation(canceled=len(rows), already_done=int(already or 0), batches=tuple(emptied))

    async def live_requests(self, batch_id: str) -> int:
        """Requests still wanted from the batch (not canceled, no result yet)."""
        query = select(func.count()).where(
            requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def finish_jobs(self, now: float) -> list[str]:
        """Mark running jobs whose every request is done as completed; return their ids."""
        open_requests = (
            select(requests.c.id)
            .where(requests.c.job_id == jobs.c.id, requests.c.state != RequestState.DONE.value)
            .exists()
        )
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    update(jobs)
                    .where(
                        jobs.c.status.in_([JobStatus.RUNNING.value, JobStatus.CANCELED.value]),
                        jobs.c.completed_at.is_(None),
                        ~open_requests,
                    )
                    .values(completed_at=now)
                    .returning(jobs.c.id, jobs.c.status)
                )
            ).all()
            done = [r.id for r in rows if r.status == JobStatus.RUNNING.value]
            if done:
                await conn.execute(update(jobs).where(jobs.c.id.in_(done)).values(status=JobStatus.COMPLETED.value))
            return [r.id for r in rows]

    async def iter_results(
        self, job_id: str, chunk: int = CHUNK, statuses: Sequence[str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The job's results in input order, a chunk at a time (keyset pagination); only those of
        `statuses` when given."""
        last = -1
        while True:
            query = (
                select(results)
                .where(results.c.job_id == job_id, results.c.seq > last)
                .order_by(results.c.seq)
                .limit(chunk)
            )
            if statuses is not None:
                query = query.where(results.c.status.in_(list(statuses)))
            async with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in (await conn.execute(query)).all()]
            if not rows:
                return
            yield rows
            last = rows[-1]["seq"]

    async def result_count(self, job_id: str) -> int:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(func.count()).select_from(results).where(results.c.job_id == job_id))
            ).scalar_one()


async def _add_requests(conn: AsyncConnection, job_id: str, chunks: Iterable[Sequence[dict[str, Any]]]) -> None:
    for chunk in chunks:
        rows = [
            {**row, "job_id": job_id, "state": RequestState.QUEUED.value, "attempts": 0, "submit_failures": 0}
            for row in chunk
        ]
        if rows:
            await conn.execute(insert(requests), rows)


async def _queued_request_count(conn: AsyncConnection) -> int:
    query = (
        select(func.count())
        .select_from(requests)
        .join(jobs, jobs.c.id == requests.c.job_id)
        .where(jobs.c.status == JobStatus.QUEUED.value)
    )
    return (await conn.execute(query)).scalar_one()


async def _cancel_requests(
    conn: AsyncConnection, job_id: str, state: RequestState, now: float, why: str
) -> list[dict[str, Any]]:
    """The job's requests in `state` marked done; their `canceled` result rows (not yet written)."""
    done = await conn.execute(
        update(requests)
        .where(requests.c.job_id == job_id, requests.c.state == state.value)
        .values(state=RequestState.DONE.value)
        .returning(*RETURNED, requests.c.batch_id)
    )
    return [canceled_row(r, now, r.batch_id, why) for r in done.all()]


async def _emptied_batches(conn: AsyncConnection, batch_ids: set[str]) -> list[str]:
    """Of these batches, the ones at their provider now holding no live request. Their rows are
    locked first (PostgreSQL): a creator recording its batch as submitted meanwhile waits for
    this cancel, then sees it (dispatch.create_remote), so one of the two cancels it."""
    if not batch_ids:
        return []
    open_ones = (BatchStatus.INTENT.value, BatchStatus.SUBMITTED.value)
    locked = (
        await conn.execute(
            select(batches.c.id, batches.c.status)
            .where(batches.c.id.in_(batch_ids), batches.c.status.in_(open_ones))
            .with_for_update()
        )
    ).all()
    live = (
        select(requests.c.batch_id)
        .where(requests.c.batch_id.in_(batch_ids), requests.c.state == RequestState.IN_BATCH.value)
        .distinct()
    )
    shared = set((await conn.execute(live)).scalars())
    return [r.id for r in locked if r.status == BatchStatus.SUBMITTED.value and r.id not in shared]


async def _summary(conn: AsyncConnection, job: Row[Any]) -> JobSummary:
    per_provider = (
        select(
            requests.c.provider,
            func.count(requests.c.id).label("requests"),
        )
        .where(requests.c.job_id == job.id)
        .group_by(requests.c.provider)
    )
    counts = {r.provider: r.requests for r in (await conn.execute(per_provider)).all()}
    agg = (
        select(
            results.c.provider,
            func.sum((results.c.status == "succeeded").cast(Integer)).label("succeeded"),
            func.count().label("finished"),
            func.sum((results.c.status == "canceled").cast(Integer)).label("canceled"),
            func.coalesce(func.sum(results.c.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(results.c.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(results.c.cost_usd), 0.0).label("cost"),
            func.coalesce(func.sum(results.c.realtime_cost_usd), 0.0).label("realtime"),
            func.sum(and_(results.c.cost_usd.is_(None), results.c.status == "succeeded").cast(Integer)).label(
                "unpriced"
            ),
            func.sum((results.c.finish_reason == "length").cast(Integer)).label("cut"),
            func.coalesce(func.sum(results.c.cache_saving_usd), 0.0).label("cache_saving"),
        )
        .where(results.c.job_id == job.id)
        .group_by(results.c.provider)
    )
    by_provider = {p: ProviderCounts(requests=n) for p, n in counts.items()}
    for r in (await conn.execute(agg)).all():
        succeeded = int(r.succeeded or 0)
        by_provider[r.provider] = ProviderCounts(
            requests=counts.get(r.provider, 0),
            succeeded=succeeded,
            failed=r.finished - succeeded - int(r.canceled or 0),
            canceled=int(r.canceled or 0),
            input_tokens=int(r.input_tokens),
            output_tokens=int(r.output_tokens),
            cost_usd=float(r.cost),
            realtime_cost_usd=float(r.realtime),
            unpriced=int(r.unpriced or 0),
            cut=int(r.cut or 0),
            cache_saving_usd=float(r.cache_saving),
        )
    batch_ids = select(func.count(func.distinct(results.c.batch_id))).where(results.c.job_id == job.id)
    n_batches = (await conn.execute(batch_ids)).scalar_one()
    return JobSummary(
        id=job.id,
        status=JobStatus(job.status),
        source=job.source,
        total=job.total,
        created_at=job.created_at,
        completed_at=job.completed_at,
        label=job.label,
        by_provider=by_provider,
        batches=int(n_batches),
        retry_of=job.retry_of,
        deadline=job.deadline,
        tiers=await tier_counts(conn, job.id),
    )
