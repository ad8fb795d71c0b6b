"""A chain's deadline in the engine (issue 17): the job deadline each step gets when it is
entered, and the forecast of when a running chain and each of its steps will finish. The
arithmetic is pure, in domain/chain_deadlines.py; this reads the store and the clock."""

from __future__ import annotations

from collections.abc import Sequence

from corthex import clock
from corthex.domain.chain import ChainPlan, ChainStatus, Step
from corthex.domain.chain_deadlines import (
    REALTIME_STEP_SECONDS,
    ChainForecast,
    StepForecast,
    StepPlan,
    batch_seconds,
    chained_ends,
    groups_of,
    step_deadline,
    step_end,
    step_seconds,
    steps_ahead,
)
from corthex.domain.org import Org
from corthex.domain.records import BatchRow, ChainRow, JobProgress, StepRow
from corthex.domain.requests import LLMRequest
from corthex.domain.turnaround import OpenBatch, PastBatch, predict
from corthex.engine.context import EngineContext


def plan_of(chain: ChainRow) -> ChainPlan:
    return ChainPlan(chain.command, chain.departments, chain.broadcast)


async def deadline_for_step(
    ctx: EngineContext, org: Org, chain: ChainRow, step: Step, requests: Sequence[LLMRequest]
) -> tuple[float, float] | None:
    """(deadline, margin) for the job of a batch step of a chain with a deadline: its share of
    the time left, in proportion to the predicted durations of it and the steps after it (None
    for a chain without one)."""
    if chain.deadline is None:
        return None
    history = await ctx.store.turnaround_history()
    ahead = steps_ahead(org, plan_of(chain), step, realtime=chain.realtime)
    ahead[0] = StepPlan(step.value, ahead[0].realtime, groups_of(requests))  # the step's own requests, known now
    durations = [step_seconds(history, s) for s in ahead]
    return step_deadline(clock.now(), chain.deadline, chain.deadline_margin or 0.0, durations)


async def forecast(ctx: EngineContext, org: Org, chain: ChainRow) -> ChainForecast:
    """When the chain and each of its steps finished or are predicted to finish."""
    now = clock.now()
    recorded = {s.step.value: s for s in await ctx.store.chains.steps(chain.id)}
    history = await ctx.store.turnaround_history()
    done: list[StepForecast] = []
    for name, row in recorded.items():
        if name != chain.step.value or chain.status is not ChainStatus.RUNNING:
            done.append(await _finished(ctx, row))
    if chain.status is not ChainStatus.RUNNING or chain.step in (Step.DELIVER, Step.DONE):
        return ChainForecast(chain.id, chain.deadline, None, chain.completed_at, tuple(done))
    ahead = steps_ahead(org, plan_of(chain), chain.step, realtime=chain.realtime)
    current = await _current(ctx, history, ahead[0], recorded.get(chain.step.value), now)
    later = ahead[1:]
    ends = chained_ends(current.predicted_finish_at or now, [step_seconds(history, s) for s in later])
    pending = tuple(
        StepForecast(s.step, _transport(s.realtime), "pending", end) for s, end in zip(later, ends, strict=True)
    )
    finish = ends[-1] if ends else current.predicted_finish_at
    return ChainForecast(chain.id, chain.deadline, finish, None, (*done, current, *pending))


async def _finished(ctx: EngineContext, row: StepRow) -> StepForecast:
    progress = None if row.job_id is None else await ctx.store.job_progress(row.job_id)
    finished = row.created_at if progress is None else progress.completed_at
    realtime = progress is not None and progress.realtime
    deadline = None if progress is None else progress.deadline
    return StepForecast(row.step.value, _transport(realtime), "done", None, finished, deadline)


async def _current(
    ctx: EngineContext, history: Sequence[PastBatch], plan: StepPlan, row: StepRow | None, now: float
) -> StepForecast:
    """The running step: its open batches' predicted ends, or now plus its expected duration
    when it is not sent yet."""
    progress = None if row is None or row.job_id is None else await ctx.store.job_progress(row.job_id)
    if progress is None:
        end = now + step_seconds(history, plan)
        return StepForecast(plan.step, _transport(plan.realtime), "running", end)
    transport = _transport(progress.realtime)
    if progress.completed_at is not None:
        return StepForecast(plan.step, transport, "running", now, None, progress.deadline)
    return StepForecast(plan.step, transport, "running", _job_end(history, progress, now), None, progress.deadline)


def _job_end(history: Sequence[PastBatch], progress: JobProgress, now: float) -> float:
    """The predicted end of a step's job still running."""
    if progress.realtime or progress.hurried:  # its calls go (or went) on a faster tier now
        return now + REALTIME_STEP_SECONDS
    open_ends = [_batch_end(history, b, now) for b in progress.batches]
    queued = [batch_seconds(history, (p, m, n)) for (p, m), n in progress.queued.items()]
    return step_end(now, open_ends, queued_seconds=max(queued, default=0.0))


def _batch_end(history: Sequence[PastBatch], batch: BatchRow, now: float) -> float:
    """The predicted end of an open batch (as the deadline mover predicts it)."""
    started = batch.submitted_at if batch.submitted_at is not None else now
    age = max(now - started, 0.0)
    return predict(
        history, OpenBatch(batch.provider.value, batch.model, batch.request_count, age, batch.done_count)
    ).end(started)


def _transport(realtime: bool) -> str:
    return "realtime" if realtime else "batch"
