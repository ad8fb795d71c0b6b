"""The one way a job is recorded, whether a batch job (`Engine.submit`, `submit_file`) or a
chain's step: under the budget guard the daily budget is checked and the job recorded, so two
submissions side by side see each other; then its event is published and the worker woken."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from corthex.domain.jobs import JobStatus
from corthex.domain.requests import LLMRequest
from corthex.engine.budget import BudgetCheck, budget_guard, check_budget
from corthex.engine.context import EngineContext
from corthex.engine.events import Event
from corthex.errors import AlreadyExists, KeyTaken


@dataclass(frozen=True)
class NewJob:
    """A job about to be recorded."""

    job_id: str
    source: str  #: cli | api | queue | chain | …
    status: JobStatus  #: RUNNING, or QUEUED to wait for a flush
    label: str | None
    total: int
    requests: Iterable[LLMRequest]  #: what the budget check prices (read once, only under a budget)
    chunks: Iterable[Sequence[dict[str, Any]]]  #: the store rows of its requests
    realtime: bool = False
    idempotency_key: str | None = None
    request_digest: str | None = None
    #: the id is derived (a chain's step): a job already recorded under it is kept as it is, and
    #: nothing is announced again
    once: bool = False
    retry_of: str | None = None  #: the job whose failed requests this one sends again
    deadline: tuple[float, float] | None = None  #: (Unix time, margin in seconds): see engine/deadlines.py


async def submit_job(
    ctx: EngineContext, job: NewJob, announce: Event, *, claim: Callable[[], Awaitable[object]] | None = None
) -> BudgetCheck | None:
    """Record `job` unless it would take today's spending over the daily budget, then publish
    `announce` and wake the worker. `claim` runs after the check, before the job is recorded,
    under the same guard (a chain claims its step there).

    Returns the failed check when the budget refused the job (nothing was claimed or recorded).

    :raises KeyTaken: a job with `job.idempotency_key` exists (nothing was recorded)."""
    async with budget_guard(ctx):
        check = await check_budget(ctx, job.requests, realtime=job.realtime)
        if check is not None and check.exceeded:
            return check
        if claim is not None:
            await claim()
        recorded = await _record(ctx, job, estimate=None if check is None else check.needed)
    if recorded:
        await ctx.bus.publish(announce)
        ctx.wake.set()
    return None


async def _record(ctx: EngineContext, job: NewJob, *, estimate: float | None) -> bool:
    """Add the job to the store; False when a job of a derived id was there already."""
    if job.once and await ctx.store.chains.job_exists(job.job_id):
        return False
    try:
        await ctx.store.add_job(
            job.job_id,
            source=job.source,
            status=job.status,
            label=job.label,
            total=job.total,
            chunks=job.chunks,
            realtime=job.realtime,
            estimate_usd=estimate,
            idempotency_key=job.idempotency_key,
            request_digest=job.request_digest,
            retry_of=job.retry_of,
            deadline=job.deadline,
        )
    except AlreadyExists as taken:
        if not job.once or isinstance(taken, KeyTaken):
            raise
        return False  # recorded concurrently by another worker
    return True
