"""The store: SQLAlchemy 2 (async) over SQLite (default, WAL) or PostgreSQL, in domain verbs."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Integer,
    Row,
    String,
    and_,
    any_,
    case,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from corthex import clock
from corthex.domain.batches import BatchStatus, RemoteRef
from corthex.domain.jobs import JobStatus, JobSummary, ProviderCounts, RequestState
from corthex.domain.planning import PlanItem
from corthex.domain.requests import ProviderName
from corthex.domain.results import FinalResult
from corthex.domain.storable import storable
from corthex.errors import JobFinished, NotFound
from corthex.redaction import mask_secrets
from corthex.store import leases, migrate
from corthex.store.chains import ChainStore
from corthex.store.tables import batches, jobs, requests, results

CHUNK = 2000  # rows per statement: well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    provider: ProviderName
    model: str | None
    status: BatchStatus
    remote: RemoteRef | None
    raw_status: str | None
    request_count: int
    done_count: int
    failed_count: int
    created_at: float
    submitted_at: float | None
    ended_at: float | None
    next_poll_at: float | None
    poll_interval: float | None
    poll_failures: int
    poll_count: int
    ended_as: str | None
    error: str | None
    error_retryable: bool

    @classmethod
    def from_row(cls, row: Row[Any]) -> BatchRow:
        m = row._mapping
        remote = RemoteRef.from_dict(orjson.loads(m["remote"])) if m["remote"] else None
        fields = {k: m[k] for k in cls.__slots__ if k not in ("provider", "status", "remote")}
        return cls(provider=ProviderName(m["provider"]), status=BatchStatus(m["status"]), remote=remote, **fields)

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["provider"], data["status"] = self.provider.value, self.status.value
        data["remote_id"] = self.remote.remote_id if self.remote else None
        del data["remote"]
        return data


#: What collection needs to decide a request's fate: (attempts, job canceled, model). A plain
#: tuple, not a class: the garbage collector stops tracking tuples of plain values, so the
#: pending requests of large batches do not make every full collection longer (and more frequent).
#: attempts, whether the job is canceled, model, the request's JSON schema (None without one)
RequestMeta = tuple[int, bool, str, dict[str, Any] | None]

#: Only a body with a schema is read back (to validate answers): the key, unescaped, can only
#: be a field name in the canonical body JSON.
_SCHEMA_KEY = '"json_schema":'


class _SchemaInterner:
    """One dict per distinct schema: a batch's thousands of requests usually share one."""

    def __init__(self) -> None:
        self._seen: dict[bytes, dict[str, Any]] = {}

    def of(self, body: str | None) -> dict[str, Any] | None:
        schema = orjson.loads(body).get("json_schema") if body is not None else None
        if not isinstance(schema, dict):
            return None
        return self._seen.setdefault(orjson.dumps(schema), schema)


def _now() -> float:
    return clock.now()


class KeyTaken(Exception):
    """A job with this Idempotency-Key exists already."""


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self.chains = ChainStore(engine, lambda table: self._insert(table).on_conflict_do_nothing())
        self._insert_results = self._driver_insert(results)

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        """Connect and bring the schema up to date."""
        store = cls.connect(url)
        await migrate.upgrade(store.engine)
        return store

    @classmethod
    def connect(cls, url: str) -> SqlStore:
        """Connect to a database whose schema is up to date (a second connection of a process)."""
        engine = create_async_engine(url, **_engine_options(url))
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, password included (for another connection of this process only)."""
        return self.engine.url.render_as_string(hide_password=False)

    async def close(self) -> None:
        await self.engine.dispose()

    async def database_time(self) -> float:
        """Seconds since the epoch by the database server's clock (see corthex/clock.py)."""
        if self._dialect == "postgresql":
            query = text("SELECT extract(epoch FROM clock_timestamp())")
        else:  # an embedded database: its clock is this host's
            query = text("SELECT (julianday('now') - 2440587.5) * 86400.0")
        async with self.engine.connect() as conn:
            return float((await conn.execute(query)).scalar_one())

    @contextlib.asynccontextmanager
    async def held(self, name: str) -> AsyncIterator[None]:
        """Hold the lock `name` across processes for the block. PostgreSQL: a transaction-level
        advisory lock (released with the transaction, also if the process dies). SQLite: nothing;
        one process at a time is the expected use (see README)."""
        if self._dialect != "postgresql":
            yield
            return
        key = zlib.crc32(name.encode()) - 2**31  # the same in every process (hash() is salted)
        async with self.engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(key)))
            yield

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return dialect.insert(table)

    def _driver_insert(self, table: Any) -> str:
        """`INSERT … ON CONFLICT DO NOTHING` of every column of `table`, compiled once into the
        driver's own SQL: an executemany of plain tuples then skips SQLAlchemy's per-row
        parameter processing, most of the Python cost of writing a chunk of results."""
        columns = [c.name for c in table.columns]
        statement = self._insert(table).on_conflict_do_nothing()
        compiled = statement.compile(dialect=self.engine.dialect, column_keys=columns)
        if list(compiled.positiontup or ()) != columns:  # the tuples are built in column order
            raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
        return str(compiled.string)

    # -- jobs ---------------------------------------------------------------------------------

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
    ) -> None:
        """Record a job and its requests in one transaction (all or nothing).

        :raises KeyTaken: a job with `idempotency_key` exists (nothing was recorded)."""
        async with self.engine.begin() as conn:
            # with a key, a concurrent twin waits for this one and then inserts nothing
            job = (self._insert(jobs).on_conflict_do_nothing() if idempotency_key else insert(jobs)).values(
                id=job_id,
                status=status.value,
                source=source,
                total=total,
                label=label,
                created_at=_now(),
                realtime=realtime,
                estimate_usd=estimate_usd,
                idempotency_key=idempotency_key,
                request_digest=request_digest,
            )
            if (await conn.execute(job)).rowcount != 1:
                raise KeyTaken(idempotency_key or "")
            for chunk in chunks:
                rows = [
                    {**row, "job_id": job_id, "state": RequestState.QUEUED.value, "attempts": 0, "submit_failures": 0}
                    for row in chunk
                ]
                if rows:
                    await conn.execute(insert(requests), rows)

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

    async def list_jobs(self, *, limit: int = 50, status: JobStatus | None = None) -> list[JobSummary]:
        query = select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            return [await _summary(conn, row) for row in rows]

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

    async def cancel_job(self, job_id: str, now: float) -> list[str]:
        """Mark the job canceled; requests not yet sent get `canceled` results.

        :raises JobFinished: the job had ended (completed or canceled); nothing is changed.
        Returns the ids of open batches that hold only this job's requests (to cancel remotely).
        """
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
            queued = (
                await conn.execute(
                    update(requests)
                    .where(requests.c.job_id == job_id, requests.c.state == RequestState.QUEUED.value)
                    .values(state=RequestState.DONE.value)
                    .returning(*_RETURNED)
                )
            ).all()
            if queued:
                rows = [_canceled_row(r, now) for r in queued]
                await conn.execute(self._insert(results).on_conflict_do_nothing(), rows)
            return await _batches_only_of(conn, job_id)

    # -- dispatch -------------------------------------------------------------------------------

    async def dispatchable(self, now: float, limit: int = 200_000) -> list[PlanItem]:
        """Requests ready to go out: queued, in a running job, past any backoff."""
        query = (
            select(requests.c.id, requests.c.provider, requests.c.model, requests.c.size)
            .join(jobs, jobs.c.id == requests.c.job_id)
            .where(
                requests.c.state == RequestState.QUEUED.value,
                jobs.c.status == JobStatus.RUNNING.value,
                jobs.c.realtime.is_(False),
                or_(requests.c.not_before.is_(None), requests.c.not_before <= now),
            )
            .order_by(requests.c.job_id, requests.c.seq)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [PlanItem(r.id, ProviderName(r.provider), r.model, r.size) for r in rows]

    async def next_dispatch_at(self) -> float | None:
        """When the earliest backed-off request becomes ready (None if nothing waits)."""
        query = (
            select(func.min(requests.c.not_before))
            .join(jobs, jobs.c.id == requests.c.job_id)
            .where(requests.c.state == RequestState.QUEUED.value, jobs.c.status == JobStatus.RUNNING.value)
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
    ) -> int:
        """Record the intent to create a batch, leased to `owner`, and assign the requests still
        queued to it. Returns how many it took (another worker may have taken some first)."""
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
            for chunk in _chunks(request_ids):
                result = await conn.execute(
                    update(requests)
                    .where(self._queued_among(chunk), requests.c.state == RequestState.QUEUED.value)
                    .values(state=RequestState.IN_BATCH.value, batch_id=batch_id, attempts=requests.c.attempts + 1)
                )
                taken += result.rowcount
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
        async with self.engine.connect() as conn:
            return [(r.id, r.body.encode()) for r in (await conn.execute(query)).all()]

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
        self, batch_id: str, error: str, *, retry_at: float, max_failures: int, now: float
    ) -> list[str]:
        """Creation failed: the batch is abandoned and its requests go back to the queue after a
        backoff. Requests that failed creation `max_failures` times get a failed result; their
        ids are returned."""
        error = _error_text(error)
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
                    .returning(*_RETURNED)
                )
            ).all()
            if given_up:
                await conn.execute(
                    self._insert(results).on_conflict_do_nothing(),
                    [_failed_row(r, "submission_failed", error, now, batch_id) for r in given_up],
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
        error = _error_text(error)
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

    async def take_realtime(self, job_id: str, batch_id: str) -> list[tuple[str, bytes]]:
        """Assign a realtime job's unsettled requests to its pseudo-batch; return them."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(requests)
                .where(requests.c.job_id == job_id, requests.c.state == RequestState.QUEUED.value)
                .values(state=RequestState.IN_BATCH.value, batch_id=batch_id, attempts=requests.c.attempts + 1)
            )
        return await self.batch_bodies(batch_id)

    # -- polling ------------------------------------------------------------------------------

    async def due_batches(self, now: float, limit: int = 100) -> list[BatchRow]:
        """Open batches that need attention now: polls due, results to collect, unconfirmed
        creations."""
        query = select(batches).where(_due(now)).order_by(batches.c.next_poll_at).limit(limit)
        async with self.engine.connect() as conn:
            return [BatchRow.from_row(r) for r in (await conn.execute(query)).all()]

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
            return [BatchRow.from_row(r) for r in (await conn.execute(query)).all()]

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

    async def record_poll(self, batch_id: str, **values: Any) -> None:
        await self._update_batch(batch_id, **values)

    async def get_batch(self, batch_id: str) -> BatchRow:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).first()
        if row is None:
            raise NotFound("batch", batch_id)
        return BatchRow.from_row(row)

    async def list_batches(self, *, job_id: str | None = None, limit: int = 200) -> list[BatchRow]:
        query = select(batches).order_by(batches.c.created_at.desc()).limit(limit)
        if job_id is not None:
            ids = select(requests.c.batch_id).where(requests.c.job_id == job_id).distinct()
            in_results = select(results.c.batch_id).where(results.c.job_id == job_id).distinct()
            query = query.where(or_(batches.c.id.in_(ids), batches.c.id.in_(in_results)))
        async with self.engine.connect() as conn:
            return [BatchRow.from_row(r) for r in (await conn.execute(query)).all()]

    # -- results ------------------------------------------------------------------------------

    async def request_meta(self, batch_id: str) -> dict[str, RequestMeta]:
        with_schema = case((requests.c.body.contains(_SCHEMA_KEY, autoescape=True), requests.c.body), else_=None)
        query = (
            select(
                requests.c.id, requests.c.attempts, requests.c.model, jobs.c.status, with_schema.label("schema_body")
            )
            .join(jobs, jobs.c.id == requests.c.job_id)
            .where(requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value)
        )
        canceled = JobStatus.CANCELED.value
        schemas = _SchemaInterner()
        async with self.engine.connect() as conn:
            # iterated, not `.all()`: one row object alive at a time, not a whole batch's
            return {
                r.id: (r.attempts, r.status == canceled, r.model, schemas.of(r.schema_body))
                for r in await conn.execute(query)
            }

    async def record_results(
        self, batch_id: str, finals: Sequence[FinalResult], retries: Sequence[tuple[str, str]], now: float
    ) -> int:
        """Write one chunk in one transaction: final results (once per request, whatever is
        replayed after a crash) and requests sent back to the queue (id, reason).
        Returns the number of results written."""
        by_id = {f.request_id: f for f in finals}
        written = 0
        async with self.engine.begin() as conn:
            if by_id:
                taken = await conn.execute(
                    update(requests)
                    .where(
                        self._among(list(by_id)),
                        _still_in(batch_id),
                        requests.c.state == RequestState.IN_BATCH.value,
                    )
                    .values(state=RequestState.DONE.value)
                    .returning(*_RETURNED)
                )
                rows = [_result_values(r, by_id[r.id], now, batch_id) for r in taken]
                if rows:
                    await conn.exec_driver_sql(self._insert_results, rows)
                written = len(rows)
            for reason, ids in _by_reason(retries).items():
                why = _error_text(reason)
                for chunk in _chunks(ids):
                    await conn.execute(
                        update(requests)
                        .where(self._among(chunk), _still_in(batch_id), requests.c.state == RequestState.IN_BATCH.value)
                        .values(state=RequestState.QUEUED.value, batch_id=None, not_before=None, last_error=why)
                    )
        return written

    def _among(self, ids: Sequence[str]) -> Any:
        """`requests.id IN ids` with the ids as one bound value (a JSON array on SQLite, an array
        on PostgreSQL), looked up by primary key: the statement is the same whatever the count,
        instead of thousands of placeholders rendered and bound for every chunk."""
        if self._dialect == "postgresql":
            return requests.c.id == any_(literal(list(ids), ARRAY(String)))
        listed = func.json_each(literal(orjson.dumps(list(ids)).decode())).table_valued("value")
        return requests.c.id.in_(select(listed.c.value))

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

    async def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database and empty it (after a collection, its largest
        write). Waits a second at most for other connections: a busy database is checkpointed
        next time (and by SQLite itself every 10,000 pages)."""
        if self._dialect != "sqlite":
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    async def close_batch(self, batch_id: str, now: float) -> None:
        await self._update_batch(
            batch_id, status=BatchStatus.COLLECTED.value, lease_owner=None, lease_until=None, ended_at=now
        )

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

    async def iter_results(self, job_id: str, chunk: int = CHUNK) -> AsyncIterator[list[dict[str, Any]]]:
        """The job's results in input order, a chunk at a time (keyset pagination)."""
        last = -1
        while True:
            query = (
                select(results)
                .where(results.c.job_id == job_id, results.c.seq > last)
                .order_by(results.c.seq)
                .limit(chunk)
            )
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

    async def _update_batch(self, batch_id: str, **values: Any) -> None:
        if values.get("error") is not None:
            values["error"] = _error_text(values["error"])
        async with self.engine.begin() as conn:
            await conn.execute(update(batches).where(batches.c.id == batch_id).values(**values))


_OPEN = [s.value for s in BatchStatus if s.is_open]


def _still_in(batch_id: str) -> Any:
    """`batch_id = ?` for statements that also match `id IN (…)`: written so that no index on
    batch_id applies, since SQLite (no statistics) would otherwise walk the whole batch through
    `ix_requests_batch` for every chunk instead of looking the ids up by primary key."""
    return func.coalesce(requests.c.batch_id, "") == batch_id


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


_RETURNED = (
    requests.c.id,
    requests.c.job_id,
    requests.c.seq,
    requests.c.custom_id,
    requests.c.provider,
    requests.c.model,
    requests.c.attempts,
)


BUSY_TIMEOUT_MS = 60_000  #: how long an SQLite write waits for another's lock
CHECKPOINT_WAIT_MS = 1_000  #: … and a checkpoint after a collection


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


#: WAL without an fsync per commit; checkpoints every 10,000 pages (40 MB of WAL) rather than
#: SQLite's 1,000: collection commits a chunk of results every few milliseconds, and each
#: checkpoint copies pages back into the database and syncs it. Once checkpointed, the WAL file
#: is cut back to 4 MB (journal_size_limit; SQLite would keep it at its largest): a disk that
#: filled up must not need 40 MB free before the worker can write again.
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "wal_autocheckpoint=10000",
    "journal_size_limit=4194304",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "foreign_keys=ON",
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _by_reason(retries: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Request ids grouped by why they go back to the queue: each keeps its own reason."""
    grouped: dict[str, list[str]] = {}
    for request_id, reason in retries:
        grouped.setdefault(reason, []).append(request_id)
    return grouped


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _base_row(r: Row[Any], now: float, batch_id: str | None) -> dict[str, Any]:
    return {
        "request_id": r.id,
        "job_id": r.job_id,
        "seq": r.seq,
        "custom_id": r.custom_id,
        "provider": r.provider,
        "attempts": r.attempts,
        "batch_id": batch_id,
        "created_at": now,
        "content": None,
        "model": r.model,
        "input_tokens": None,
        "output_tokens": None,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "cost_usd": None,
        "realtime_cost_usd": None,
        "error_type": None,
        "error_message": None,
        "finish_reason": None,
        "reasoning_tokens": None,
        "parsed": None,
    }


def _result_values(r: Row[Any], final: FinalResult, now: float, batch_id: str) -> tuple[Any, ...]:
    """A result row for `SqlStore._insert_results`, in the column order of `results`."""
    usage, error = final.usage, final.error
    tokens = (
        (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.cache_write_tokens)
        if usage is not None
        else (None, None, None, None)
    )
    return (
        r.id,
        r.job_id,
        r.seq,
        r.custom_id,
        final.status.value,
        _storable(final.content),
        final.model or r.model,
        r.provider,
        *tokens,
        final.cost_usd,
        final.realtime_cost_usd,
        error.type if error is not None else None,
        _error_text(error.message) if error is not None else None,
        r.attempts,
        batch_id,
        now,
        final.finish_reason.value if final.finish_reason is not None else None,
        usage.reasoning_tokens if usage is not None else None,
        _storable(orjson.dumps(final.parsed).decode()) if final.has_parsed else None,
    )


def _storable(text: str | None) -> str | None:
    """Provider text as a text column can hold it (the NUL rule: domain/storable.py)."""
    return storable(text)


def _error_text(text: str) -> str:
    """Error text as it may be stored: no secret in it, whatever shape a provider's error page
    gave it (the last defence: adapters mask their errors too), and no NUL."""
    return _storable(mask_secrets(text)) or ""


def _failed_row(r: Row[Any], kind: str, message: str, now: float, batch_id: str | None) -> dict[str, Any]:
    row = _base_row(r, now, batch_id)
    row.update(status="failed", error_type=kind, error_message=_error_text(message))
    return row


def _canceled_row(r: Row[Any], now: float) -> dict[str, Any]:
    row = _base_row(r, now, None)
    row.update(status="canceled", error_type="canceled", error_message="job canceled before submission")
    return row


async def _queued_request_count(conn: AsyncConnection) -> int:
    query = (
        select(func.count())
        .select_from(requests)
        .join(jobs, jobs.c.id == requests.c.job_id)
        .where(jobs.c.status == JobStatus.QUEUED.value)
    )
    return (await conn.execute(query)).scalar_one()


async def _batches_only_of(conn: AsyncConnection, job_id: str) -> list[str]:
    mine = (
        select(requests.c.batch_id)
        .where(requests.c.job_id == job_id, requests.c.state == RequestState.IN_BATCH.value)
        .distinct()
    )
    others = (
        select(requests.c.batch_id)
        .where(
            requests.c.job_id != job_id, requests.c.state == RequestState.IN_BATCH.value, requests.c.batch_id.in_(mine)
        )
        .distinct()
    )
    query = select(batches.c.id).where(
        batches.c.id.in_(mine), batches.c.id.not_in(others), batches.c.status == BatchStatus.SUBMITTED.value
    )
    return list((await conn.execute(query)).scalars())


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
            func.coalesce(func.sum(results.c.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(results.c.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(results.c.cost_usd), 0.0).label("cost"),
            func.coalesce(func.sum(results.c.realtime_cost_usd), 0.0).label("realtime"),
            func.sum(and_(results.c.cost_usd.is_(None), results.c.status == "succeeded").cast(Integer)).label(
                "unpriced"
            ),
            func.sum((results.c.finish_reason == "length").cast(Integer)).label("cut"),
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
            failed=r.finished - succeeded,
            input_tokens=int(r.input_tokens),
            output_tokens=int(r.output_tokens),
            cost_usd=float(r.cost),
            realtime_cost_usd=float(r.realtime),
            unpriced=int(r.unpriced or 0),
            cut=int(r.cut or 0),
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
    )
