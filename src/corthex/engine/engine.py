"""The engine: the async API over store, providers and the worker loop.

async with Engine(Settings()) as engine:
    report = await engine.submit_file(Path("requests.jsonl"))
    await engine.wait(report.job_id)
    async for line in engine.results(report.job_id):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from corthex import clock, redaction
from corthex.config import Settings
from corthex.domain import pricing
from corthex.domain.budget import BudgetStatus, CostBreakdown, cost_breakdown
from corthex.domain.chain import ChainStatus, who
from corthex.domain.chain_deadlines import ChainForecast
from corthex.domain.deadlines import job_deadline
from corthex.domain.embeddings import unpack_embedding
from corthex.domain.endpoints import emulated_providers
from corthex.domain.events import JobSubmitted, QueueCleared, QueueFlushed
from corthex.domain.jobs import CancelOutcome, JobStatus, JobSummary, QueueStats
from corthex.domain.org import Org
from corthex.domain.records import BatchRow, ChainRow, ChainStopped, StepRow
from corthex.domain.registry import provider_names
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import RETRY_BY_DEFAULT, ResultStatus
from corthex.domain.storable import nul_refusal
from corthex.domain.templates import RowTemplate
from corthex.engine.budget import budget_status
from corthex.engine.cancel import cancel_job
from corthex.engine.chain_deadlines import forecast as forecast_chain
from corthex.engine.chains import MAX_COMMAND_CHARS, ChainRunner, Delivery, checked_command
from corthex.engine.context import EngineContext
from corthex.engine.deadlines import keep_deadlines
from corthex.engine.dispatch import dispatch_once
from corthex.engine.events import EventBus
from corthex.engine.intake import Intake, checked_key, new_job_id, read_file, read_objects
from corthex.engine.outputs import results_table, write_output
from corthex.engine.poller import BackgroundPolls, poll_once
from corthex.engine.retry import retry_intake
from corthex.engine.setup import (
    DoctorReport,
    Need,
    ProvidersReport,
    check_setup,
    database_state,
    org_needs,
    provider_setup,
    providers_report,
    versions,
)
from corthex.engine.storage import storage_failure
from corthex.engine.submission import NewJob, submit_job
from corthex.engine.tables import input_schema, read_table
from corthex.errors import (
    BudgetExceeded,
    IdempotencyConflict,
    InputProblem,
    JobFinished,
    KeyTaken,
    UsageError,
)
from corthex.phases import mark
from corthex.providers.base import Provider
from corthex.providers.registry import load_providers
from corthex.providers.vocabulary import with_state
from corthex.store.sql import SqlStore
from corthex.store.views import StoreCounts, StoreViews

# What the outer layers (api, telegram, the CLI, the demo) may name besides the engine: they import
# these from here, never from corthex.store or the engine's parts (tests/unit/test_architecture.py).
__all__ = [
    "MAX_COMMAND_CHARS",
    "BatchRow",
    "ChainRow",
    "ChainStopped",
    "Delivery",
    "DoctorReport",
    "ProvidersReport",
    "Engine",
    "StepRow",
    "StoreCounts",
    "SubmitReport",
    "output_line",
]

log = logging.getLogger(__name__)

#: how often a long-running worker measures its clock against the database's again
CLOCK_CHECK_SECONDS = 300.0


@dataclass(frozen=True)
class SubmitReport:
    job_id: str
    total: int  #: requests accepted
    queued: bool  #: waiting in the queue for a flush
    skipped: list[InputProblem] = field(default_factory=list)  #: lines left out (--skip-invalid)
    warnings: list[str] = field(default_factory=list)  #: what will not go out as written, and why
    replayed: bool = False  #: the Idempotency-Key was used before: this is the job it created


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        providers: dict[ProviderName, Provider] | None = None,
        store: SqlStore | None = None,
        deliveries: list[Delivery] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        redaction.configure(self.settings)  # its secrets (a .env's too) are masked everywhere
        pricing.use_prices(self.settings.model_prices)  # the models priced by the user
        load_providers(self.settings.providers_file)  # plugins, compatible servers, routes
        self._providers, self._given_store = providers, store
        self._deliveries = list(deliveries or [])
        self._context: EngineContext | None = None
        self._sql: SqlStore | None = None  #: the store in use (the context sees it as a `Store`)
        self._chains: ChainRunner | None = None
        self._own_providers = providers is None
        self._own_store = store is None
        self._relay: Any = None  #: the PostgreSQL event relay (engine/pg_events.py)
        self._clock_followed_at = 0.0

    async def __aenter__(self) -> Engine:
        providers = self._providers
        if providers is None:  # first: a malformed endpoint is refused before the database is touched
            from corthex.providers import build_providers

            providers = build_providers(
                self.settings.data_dir,
                max_retries=self.settings.provider_max_retries,
                timeout=self.settings.provider_timeout,
            )
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = self._sql = self._given_store or await SqlStore.open(self.settings.database_url)
        self._context = EngineContext(self.settings, store, providers)
        await self._follow_database_clock()
        if store.engine.dialect.name == "postgresql":  # events reach every process on the database
            from corthex.engine.pg_events import PgEventRelay, asyncpg_dsn

            ctx = self._context
            self._relay = await PgEventRelay(ctx.bus, asyncpg_dsn(store.engine.url), ctx.worker_id).start()
        return self

    async def __aexit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | Any) -> None:
        ctx, self._context = self._ctx, None
        if self._relay is not None:
            await self._relay.close()
            self._relay = None
        if self._own_providers:
            for provider in ctx.providers.values():
                with contextlib.suppress(Exception):
                    await provider.aclose()
        if self._own_store:
            await ctx.store.close()

    async def _follow_database_clock(self) -> None:
        """Read time by the database's clock from now on (corthex/clock.py): leases and due times
        mean the same to every worker, whatever its host's clock says."""
        sent_at = time.time()
        database_time = await self._ctx.store.database_time()
        offset = clock.follow(database_time, sent_at, time.time())
        self._clock_followed_at = time.monotonic()
        if abs(offset) > 1.0:
            way = "ahead of" if offset < 0 else "behind"
            log.warning("this host's clock is %.1fs %s the database's: leases follow the database's", abs(offset), way)

    @property
    def _ctx(self) -> EngineContext:
        """What the engine's parts share. Private: the outer layers (api, telegram, the CLI, the
        demo) use the engine's methods (tests/unit/test_architecture.py)."""
        if self._context is None:
            raise RuntimeError("use the engine inside `async with Engine(...)`")
        return self._context

    def add_delivery(self, delivery: Delivery) -> None:
        """Deliver finished chains' reports to `delivery` too (e.g. the WebSocket, Telegram)."""
        self._deliveries.append(delivery)
        if self._chains is not None:
            self._chains.deliveries.append(delivery)

    @property
    def chains(self) -> ChainRunner:
        """The chain orchestrator (the org is loaded on first use)."""
        if self._chains is None:
            from corthex.archive import ArchiveDelivery
            from corthex.org import load_org

            archive = ArchiveDelivery(self.settings.archive_dir, self._store.chains)
            org = functools.partial(load_org, self.settings.org_path)
            self._chains = ChainRunner(self._ctx, org, [archive, *self._deliveries])
        return self._chains

    @property
    def _store(self) -> SqlStore:
        if self._context is None or self._sql is None:
            raise RuntimeError("use the engine inside `async with Engine(...)`")
        return self._sql

    @property
    def bus(self) -> EventBus:
        return self._ctx.bus

    # -- submitting ---------------------------------------------------------------------------

    async def submit_file(
        self,
        path: Path,
        *,
        skip_invalid: bool = False,
        queue: bool = False,
        label: str | None = None,
        encoding: str | None = None,
        idempotency_key: str | None = None,
        strict_models: bool = False,
        deadline: float | str | None = None,
        deadline_margin: float | str | None = None,
    ) -> SubmitReport:
        """Validate a JSONL file and record it as a job; nothing is stored if a line is invalid
        (unless `skip_invalid`). With `queue`, the job waits in the queue for a flush. The file
        is UTF-8 unless `encoding` says otherwise (e.g. "cp949"). An unknown model is a warning,
        or with `strict_models` an invalid line.

        :raises SetupError: a provider the file needs is not set up (nothing stored)."""
        intake = read_file(Path(path), skip_invalid=skip_invalid, encoding=encoding, strict_models=strict_models)
        mark("validated", requests=intake.total)
        source = "queue" if queue else "cli"
        return await self._record(
            intake,
            queue=queue,
            source=source,
            label=label or Path(path).name,
            idempotency_key=idempotency_key,
            deadline=job_deadline(deadline, deadline_margin, clock.now()),
        )

    async def submit_table(
        self,
        table: Path | str | Any,
        template: RowTemplate,
        *,
        skip_invalid: bool = False,
        queue: bool = False,
        label: str | None = None,
        encoding: str | None = None,
        idempotency_key: str | None = None,
        strict_models: bool = False,
        deadline: float | str | None = None,
        deadline_margin: float | str | None = None,
    ) -> SubmitReport:
        """A table as a job, one request per row from `template`: a CSV, TSV or Parquet path, a
        list of dicts, a pyarrow Table, or a pandas or polars DataFrame (neither is required). Each
        row's columns come back on its output line (`metadata`) and in `results_table`. Nothing is
        stored if a row is invalid (unless `skip_invalid`).

        :raises SetupError: the template's provider is not set up (nothing stored)."""
        intake = read_table(table, template, skip_invalid=skip_invalid, encoding=encoding, strict_models=strict_models)
        source = "queue" if queue else "cli"
        name = Path(table).name if isinstance(table, str | os.PathLike) else type(table).__name__
        return await self._record(
            intake,
            queue=queue,
            source=source,
            label=label or name,
            idempotency_key=idempotency_key,
            deadline=job_deadline(deadline, deadline_margin, clock.now()),
        )

    async def submit(
        self,
        requests: Iterable[dict[str, Any] | LLMRequest],
        *,
        skip_invalid: bool = False,
        queue: bool = False,
        source: str = "api",
        label: str | None = None,
        idempotency_key: str | None = None,
        strict_models: bool = False,
        deadline: float | str | None = None,
        deadline_margin: float | str | None = None,
    ) -> SubmitReport:
        """Validate request objects (dicts in the input-line format, or LLMRequest) and record them.

        With `idempotency_key`, a second call with the same key and the same requests (a retry
        after a timeout) returns the job the first created; with other requests it is refused.
        An unknown model is a warning, or with `strict_models` an invalid item. With `deadline`
        (a Unix time, a duration such as "2h", or an ISO timestamp), requests whose batches are
        predicted to end later than the deadline less `deadline_margin` (seconds or a duration;
        default a tenth of the time left, at least a minute) are sent on a faster tier instead.

        :raises SetupError: a provider the requests need is not set up (nothing stored)."""
        intake = read_objects(requests, skip_invalid=skip_invalid, strict_models=strict_models)
        when = job_deadline(deadline, deadline_margin, clock.now())
        return await self._record(
            intake, queue=queue, source=source, label=label, idempotency_key=idempotency_key, deadline=when
        )

    async def retry(
        self,
        job_id: str,
        statuses: Sequence[ResultStatus] = RETRY_BY_DEFAULT,
        *,
        source: str = "api",
        idempotency_key: str | None = None,
    ) -> SubmitReport:
        """Send the job's requests whose result has one of `statuses` (failed and expired by
        default) again, as a new job linked to it (`retry_of`); `total` is how many were resent.

        :raises NothingToRetry: the job has no such request (nothing is recorded)."""
        intake = await retry_intake(self._ctx, job_id, statuses)
        label = f"retry of {job_id}"
        return await self._record(
            intake, queue=False, source=source, label=label, idempotency_key=idempotency_key, retry_of=job_id
        )

    async def _record(
        self,
        intake: Intake,
        *,
        queue: bool,
        source: str,
        label: str | None,
        idempotency_key: str | None = None,
        retry_of: str | None = None,
        deadline: tuple[float, float] | None = None,
    ) -> SubmitReport:
        if label is not None and (refusal := nul_refusal("the label", label)):
            raise UsageError(refusal)
        await self._check_setup(intake.needs)
        digest = None
        if idempotency_key is not None:
            digest = intake.digest()
            if earlier := await self._submitted_before(checked_key(idempotency_key), digest):
                return earlier
        job_id, prefix = new_job_id()
        job = NewJob(
            job_id,
            source=source,
            status=JobStatus.QUEUED if queue else JobStatus.RUNNING,
            label=label,
            total=intake.total,
            requests=intake.requests(),
            chunks=intake.chunks(prefix),
            idempotency_key=idempotency_key,
            request_digest=digest,
            retry_of=retry_of,
            deadline=deadline,
        )
        try:
            refused = await submit_job(self._ctx, job, JobSubmitted(job_id=job_id, total=intake.total, queued=queue))
        except KeyTaken:  # a twin of this call (same key) recorded it a moment ago
            twin = await self._submitted_before(idempotency_key or "", digest)
            if twin is None:
                raise
            return twin
        if refused is not None:
            raise BudgetExceeded(f"nothing submitted: {refused.explain('this job')}")
        mark("recorded", job_id=job_id)
        for warning in intake.warnings:
            log.warning("job %s: %s", job_id, warning)
        return SubmitReport(job_id, intake.total, queue, intake.skipped, intake.warnings)

    async def _check_setup(self, needs: Mapping[ProviderName, Need]) -> None:
        """Keys, endpoint variables and endpoints of the providers `needs` names, before anything
        is stored (only for providers built from the environment: given ones are the caller's)."""
        if self._own_providers:
            await check_setup(needs)

    @staticmethod
    async def doctor(settings: Settings | None = None, *, reach: bool = True) -> DoctorReport:
        """Every provider's key (present or not, never its value), endpoint and whether it answers;
        the database (password hidden) and its schema; the versions. Needs no `async with`: it
        opens nothing for good and migrates nothing."""
        settings = settings or Settings()
        load_providers(settings.providers_file)
        environ = dict(os.environ)
        providers = [await provider_setup(name, environ, reach=reach) for name in provider_names()]
        database_ok, detail = await database_state(settings.database_url)
        url = redaction.safe_database_url(settings.database_url)
        return DoctorReport(providers, url, database_ok, detail, versions())

    @staticmethod
    async def providers(settings: Settings | None = None, *, reach: bool = True) -> ProvidersReport:
        """Every provider installed (built in, a plugin, a configured server): where it came from,
        what it serves, whether its key is set and (with `reach`) whether it answers."""
        settings = settings or Settings()
        loaded = load_providers(settings.providers_file)
        return await providers_report(loaded, dict(os.environ), reach=reach)

    async def _submitted_before(self, idempotency_key: str, digest: str | None) -> SubmitReport | None:
        """The job an earlier submission with this key created, if any.

        :raises IdempotencyConflict: that submission had other requests."""
        found = await self._store.job_for_key(idempotency_key)
        if found is None:
            return None
        job_id, earlier_digest = found
        if earlier_digest != digest:
            raise IdempotencyConflict(idempotency_key, job_id)
        summary = await self._store.get_job(job_id)
        return SubmitReport(job_id, summary.total, summary.status is JobStatus.QUEUED, replayed=True)

    async def flush(self) -> int:
        """Send everything waiting in the queue now. Returns the number of requests released."""
        released = await self._store.release_queued()
        if released:
            await self.bus.publish(QueueFlushed(requests=released))
            self._ctx.wake.set()
        return released

    # -- reading ------------------------------------------------------------------------------

    async def status(self, job_id: str) -> JobSummary:
        return await self._store.get_job(job_id)

    async def jobs(
        self, *, limit: int = 50, status: JobStatus | None = None, before: str | None = None
    ) -> list[JobSummary]:
        """Jobs, newest first; `before` (a job id) pages on to the jobs older than it."""
        return await self._store.list_jobs(limit=limit, status=status, before=before)

    async def batches(self, job_id: str | None = None, *, limit: int = 200) -> list[BatchRow]:
        """Provider batches, newest first; with `job_id`, those that carried that job's requests."""
        return [with_state(b) for b in await self._store.list_batches(job_id=job_id, limit=limit)]

    async def batch_shares(self, job_id: str) -> dict[str, tuple[int, int]]:
        """For each batch of the job: (its requests in it, how many other jobs share it)."""
        return await self._store.batch_shares(job_id)

    async def batch(self, batch_id: str) -> BatchRow:
        return with_state(await self._store.get_batch(batch_id))

    async def result_rows(self, job_id: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The job's results as stored (with their batch and token columns), a chunk at a time."""
        async for chunk in self._store.iter_results(job_id):
            yield chunk

    async def job_requests(self, job_id: str) -> list[dict[str, Any]]:
        """The job's requests in input order: custom_id, model, provider, state, body (canonical JSON)."""
        return await self._views.job_requests(job_id)

    async def job_done(self, job_id: str) -> bool:
        """Whether every request of the job has its final result."""
        return await self._store.chains.job_done(job_id)

    async def queue_stats(self) -> QueueStats:
        requests, oldest = await self._store.queue_stats()
        return QueueStats(requests=requests, jobs=await self._store.job_count(JobStatus.QUEUED), oldest_at=oldest)

    async def budget_status(self) -> BudgetStatus:
        """Spent today, held by open jobs, the budget and what is left: what /budget, /costs, the
        dashboard and the check before every submission all read."""
        return await budget_status(self._ctx)

    async def cost_between(self, start: float, end: float) -> tuple[float, float]:
        """(cost, realtime-equivalent cost) of the results recorded in [start, end)."""
        return await self._views.cost_between(start, end)

    async def cost_breakdown(self, start: float, end: float) -> CostBreakdown:
        """The cost of the results recorded in [start, end) by provider, model and department."""
        groups = await self._views.cost_groups(start, end)
        org = self.org
        return cost_breakdown((p, m, who(org, c)[2] if c else None, cost) for p, m, c, cost in groups)

    @staticmethod
    def emulated_providers() -> dict[str, bool]:
        """provider -> whether its base URL (from the environment) points at the emulator."""
        return emulated_providers(os.environ)

    async def counts(self) -> StoreCounts:
        """Batches, requests, results, cost and status calls per provider (for /metrics)."""
        return await self._views.counts()

    @property
    def _views(self) -> StoreViews:
        return StoreViews(self._store.engine)

    async def results(
        self, job_id: str, *, statuses: Sequence[ResultStatus] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The job's results so far, in input order, one output-line dict each (only those of
        `statuses` when given)."""
        await self._store.get_job(job_id)  # NotFound for an unknown id
        names = None if statuses is None else [s.value for s in statuses]
        async for chunk in self._store.iter_results(job_id, statuses=names):
            for row in chunk:
                yield output_line(row)

    async def write_results(
        self,
        job_id: str,
        path: Path,
        *,
        statuses: Sequence[ResultStatus] | None = None,
        table: Path | str | Any | None = None,
        json_schema: dict[str, Any] | None = None,
        encoding: str | None = None,
    ) -> int:
        """Write the job's output lines to `path`: JSONL, Parquet or CSV by its suffix. A table
        keeps the columns of the input `table` (the path or the table in memory the job was
        submitted from; typed as there) and, with `json_schema`, one column per property of the
        answers; `statuses` keeps only those. Returns how many rows."""
        schema = input_schema(table, encoding) if table is not None else None
        return await write_output(
            self.results(job_id, statuses=statuses), Path(path), input_schema=schema, json_schema=json_schema
        )

    async def results_table(
        self,
        job_id: str,
        *,
        table: Path | str | Any | None = None,
        json_schema: dict[str, Any] | None = None,
        statuses: Sequence[ResultStatus] | None = None,
        encoding: str | None = None,
    ) -> Any:
        """The job's results as a pyarrow Table (`.to_pandas()`, `polars.from_arrow(…)`), one row
        per request in input order, its columns as `write_results` writes them: the columns of
        `table` (the one the job was submitted from, typed as there; without it they come as the
        `metadata` JSON), the results', and one per property of `json_schema`."""
        schema = input_schema(table, encoding) if table is not None else None
        return await results_table(
            self.results(job_id, statuses=statuses), input_schema=schema, json_schema=json_schema
        )

    async def cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a job: no request of it goes out any more, its batches are canceled at their
        providers (or, shared with another job, its requests dropped from them); results already
        in are kept. Returns the job and what was stopped ("4,998 canceled, 2 already done").

        :raises JobFinished: the job had ended already; it is left exactly as it was."""
        return await cancel_job(self._ctx, job_id)

    async def clear_queue(self, *, max_jobs: int = 10_000) -> tuple[list[str], int]:
        """Drop the queue: every queued job is canceled (its requests get `canceled` results).
        Returns (the canceled jobs, their requests)."""
        canceled, count = [], 0
        for job in await self.jobs(status=JobStatus.QUEUED, limit=max_jobs):
            # Re-read first: a flush between the listing and here must not cancel a running job.
            if (await self.status(job.id)).status is JobStatus.QUEUED:
                with contextlib.suppress(JobFinished):  # ended meanwhile: left as it is
                    await self.cancel(job.id)
                    canceled.append(job.id)
                    count += job.total
        await self.bus.publish(QueueCleared(jobs=len(canceled), requests=count))
        return canceled, count

    # -- chains -------------------------------------------------------------------------------

    async def start_chain(
        self,
        command: str,
        *,
        broadcast: bool = False,
        realtime: bool = False,
        origin: str = "api",
        origin_ref: str | None = None,
        deadline: float | str | None = None,
        deadline_margin: float | str | None = None,
    ) -> ChainRow:
        """Start a delegation chain; its first step is submitted before this returns. With
        `deadline` (a Unix time, a duration such as `2h`, or an ISO timestamp; as `submit`'s) the
        time left is shared among the steps as each is entered, each step's job getting its share
        as its own deadline (engine/chain_deadlines.py); `deadline_margin` as `submit`'s.

        :raises SetupError: a provider the org's agents use is not set up (nothing stored).
        :raises UsageError: a deadline past or unreadable (nothing stored)."""
        checked_command(command)  # the command's own fault is said first, whatever the setup
        when = job_deadline(deadline, deadline_margin, clock.now())
        await self._check_setup(org_needs(self.org))
        return await self.chains.start(
            command, broadcast=broadcast, realtime=realtime, origin=origin, origin_ref=origin_ref, deadline=when
        )

    async def chain_forecast(self, chain_id: str) -> ChainForecast:
        """When the chain and each of its steps finished or are predicted to finish (the running
        step from its open batches, the later ones from their predicted durations).

        :raises NotFound: no chain has this id."""
        return await forecast_chain(self._ctx, self.org, await self._store.chains.get(chain_id))

    async def cancel_chain(self, chain_id: str) -> ChainStopped:
        """Stop a chain: no step follows, its open jobs and their batches are canceled, and the
        report of what it has is delivered, marked canceled.

        :raises NotFound: no such chain. :raises ChainFinished: it had ended (nothing changed)."""
        return await self.chains.cancel(chain_id)

    async def rerun_chain(self, chain_id: str, *, origin: str = "api", origin_ref: str | None = None) -> ChainRow:
        """Run a chain's command again as a new chain (same command and org), linked to the first
        by `rerun_of`; its first step is submitted before this returns."""
        return await self.chains.rerun(chain_id, origin=origin, origin_ref=origin_ref)

    async def wait_chain(self, chain_id: str, *, timeout: float | None = None) -> ChainRow:  # noqa: ASYNC109
        """Work in-process until the chain has delivered (or stopped); returns it with its report."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (chain := await self._store.chains.get(chain_id)).status is ChainStatus.RUNNING:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"chain {chain_id} not done after {timeout}s")
            await self.step()
            await self._sleep_until_due()
        return chain

    async def chain_steps(self, chain_id: str) -> list[StepRow]:
        """The chain's steps so far, each with the job that carried it."""
        await self._store.chains.get(chain_id)  # NotFound for an unknown id
        return await self._store.chains.steps(chain_id)

    async def chain(self, chain_id: str) -> ChainRow:
        """:raises NotFound: no chain has this id."""
        return await self._store.chains.get(chain_id)

    async def list_chains(self, *, limit: int = 50, status: ChainStatus | None = None) -> list[ChainRow]:
        """Chains, newest first. (Not `chains`: that is the orchestrator.)"""
        return await self._store.chains.list(limit=limit, status=status)

    async def chain_count(self, status: ChainStatus) -> int:
        return await self._store.chains.count(status)

    async def chain_cost(self, chain_id: str) -> tuple[float, float]:
        """(cost, realtime-equivalent cost) of the chain's results so far."""
        return await self._store.chains.cost(chain_id)

    async def chain_costs(self, chain_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        """`chain_cost` of many chains in one query (a chain without results is left out)."""
        return await self._store.chains.costs(chain_ids)

    @property
    def org(self) -> Org:
        """The org the chains route to (loaded on first use)."""
        return self.chains.org

    # -- waking the worker --------------------------------------------------------------------

    @property
    def worker_id(self) -> str:
        """This engine's id in leases and logs."""
        return self._ctx.worker_id

    def wake(self) -> None:
        """End the worker loop's sleep now: there is news (new work, a webhook, a stop)."""
        self._ctx.wake.set()

    async def poll_soon(self, batch_id: str) -> None:
        """Look at the batch in the next round instead of at its next interval (a webhook said
        it moved)."""
        await self._store.poll_soon(batch_id)
        self.wake()

    async def open_batch_for_remote(self, provider: str, remote_id: str) -> str | None:
        """Our id of the open (still polled) batch that `provider` knows as `remote_id`."""
        return await self._views.open_batch_by_remote(provider, remote_id)

    # -- working ------------------------------------------------------------------------------

    async def step(self, polls: BackgroundPolls | None = None) -> None:
        """One round of work: auto-flush the queue if due, send ready requests, poll due batches
        (and wait for them, unless `polls` takes them into the background)."""
        self._ctx.wake.clear()  # a wake-up during this round makes the next sleep return at once
        if self._ctx.storage.remaining() > 0:  # the local disk is failing: nothing is done until it passes
            return
        await self._auto_flush()
        await keep_deadlines(self._ctx)  # before dispatch: a late job's requests go into no new batch
        if polls is None:
            await dispatch_once(self._ctx)
            await poll_once(self._ctx)
        else:
            polls.start_dispatch()  # in the background: a slow creation holds up no poll
            await polls.start_due()
        if await self._store.chains.list(status=ChainStatus.RUNNING, limit=1):
            await self.chains.tick()
        await self.chains.deliver_owed()

    async def catch_up(self) -> int:
        """Read what the providers have done: poll the submitted batches that are due and collect
        the ended ones. Unlike `step` it never releases the queue, sends or recovers a batch, or
        advances or delivers a chain, so a read (`corthex status`) changes nothing a worker decides.
        Returns how many batches were looked at."""
        return await poll_once(self._ctx, intents=False)

    async def _auto_flush(self) -> None:
        count, oldest = await self._store.queue_stats()
        if count == 0:
            return
        too_old = oldest is not None and clock.now() - oldest >= self.settings.queue_max_age
        if count >= self.settings.queue_max_requests or too_old:
            log.info("auto-flushing the queue (%d requests)", count)
            await self.flush()

    async def _sleep_until_due(self, polls: BackgroundPolls | None = None) -> None:
        """Sleep until the next poll or dispatch is due, a wake-up, or the idle re-check. While
        a dispatch round runs in `polls`, its end (a wake-up) is what the next one waits for."""
        paused = self._ctx.storage.remaining()
        if paused > 0:  # not a hot loop of rounds that do nothing
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ctx.wake.wait(), timeout=paused)
            return
        now = clock.now()
        dispatching = polls is not None and polls.dispatching
        candidates = [await self._store.next_poll_at(), None if dispatching else await self._store.next_dispatch_at()]
        _, oldest = await self._store.queue_stats()
        if oldest is not None:
            candidates.append(oldest + self.settings.queue_max_age)
        due = [c - now for c in candidates if c is not None]
        delay = min([self.settings.idle_recheck, *due])
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ctx.wake.wait(), timeout=delay)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """The worker loop: runs until `stop` is set. Survives provider and store hiccups."""
        stop = stop or asyncio.Event()
        if self._own_providers:  # long-lived: import the set-up providers' SDKs (~1.5 s) now, not on the first job
            from corthex.providers import preload

            # ... in a thread, and wait for it: a step that needs an adapter while the thread
            # imports its SDK blocks the event loop on the import lock (seconds, on a busy
            # machine), and a blocked loop cannot renew its leases: another worker would take
            # over an intent in hand.
            with contextlib.suppress(Exception):
                await asyncio.to_thread(preload, os.environ)
        polls = BackgroundPolls(self._ctx)
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() - self._clock_followed_at > CLOCK_CHECK_SECONDS:  # clocks drift
                        await self._follow_database_clock()
                    await self.step(polls)
                except Exception as exc:
                    if storage_failure(exc) is not None:
                        self._ctx.storage.failed(exc)  # one line, and a pause: not a traceback per round
                    else:
                        log.exception("worker step failed; retrying")
                await self._sleep_until_due(polls)
        finally:
            await polls.drain()

    async def wait(
        self,
        job_id: str,
        *,
        on_progress: Callable[[JobSummary], Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - bounds the in-process work, not one await
    ) -> JobSummary:
        """Work in-process until the job is complete (or canceled); returns its final summary.
        Each batch is polled and collected in a task of its own, as the worker does: a batch's
        end is not noticed late because another one is being created or collected."""
        deadline = None if timeout is None else time.monotonic() + timeout
        polls = BackgroundPolls(self._ctx)
        try:
            summary = await self._progress(job_id, on_progress)
            while not _complete(summary):
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"job {job_id} not complete after {timeout}s")
                # The status is read after the round, which clears the wake-up first: a batch task
                # completing the job before that is seen here, one after it ends the sleep at once.
                await self.step(polls)
                summary = await self._progress(job_id, on_progress)
                if not _complete(summary):
                    await self._sleep_until_due(polls)
            return summary
        finally:
            await polls.drain()

    async def _progress(self, job_id: str, on_progress: Callable[[JobSummary], Any] | None) -> JobSummary:
        summary = await self.status(job_id)
        if on_progress is not None:
            on_progress(summary)
        return summary


def _complete(summary: JobSummary) -> bool:
    return summary.status.is_final and summary.completed_at is not None


def tier_of(row: dict[str, Any]) -> str:
    """batch, flex or realtime; a row stored before results had a tier: a realtime job's
    pseudo-batch (`rt_…`) says realtime."""
    if row.get("tier"):
        return str(row["tier"])
    return "realtime" if str(row.get("batch_id") or "").startswith("rt_") else "batch"


def output_line(row: dict[str, Any]) -> dict[str, Any]:
    """A stored result in the output-line format of DESIGN.md §7."""
    usage = None
    if row["input_tokens"] is not None:
        usage = {
            "input_tokens": row["input_tokens"],
            "output_tokens": row["output_tokens"],
            "cached_tokens": row["cached_tokens"] or 0,
            "cache_write_tokens": row["cache_write_tokens"] or 0,  # priced apart (Anthropic's writes)
            "reasoning_tokens": row["reasoning_tokens"] or 0,
        }
    error = None
    if row["error_type"] is not None:
        # `type` in one vocabulary for every provider (ErrorType), `code` the provider's own
        error = {"type": row["error_type"], "code": row.get("error_code"), "message": row["error_message"]}
    line = {
        "custom_id": row["custom_id"],
        "status": row["status"],
        "content": row["content"],
        "finish_reason": row["finish_reason"],
        "parsed": orjson.loads(row["parsed"]) if row["parsed"] is not None else None,
        "model": row["model"],
        "provider": row["provider"],
        "usage": usage,
        "cost_usd": row["cost_usd"],  # at the tier that answered it
        "tier": tier_of(row),
        "error": error,
        "attempts": row["attempts"],
    }
    # given only when there are some: a plain text job's lines stay as they were
    for name in ("tool_calls", "metadata", "raw"):
        if row.get(name) is not None:
            line[name] = orjson.loads(row[name])
    if row.get("embedding") is not None:
        line["embedding"] = unpack_embedding(row["embedding"])
    return line
