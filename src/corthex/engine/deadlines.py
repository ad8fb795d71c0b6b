"""Deadlines (issue 17): a job with a deadline whose batches are predicted to end too late is
moved to a faster tier.

Each worker round, for every running job with a deadline:
- an open batch of it whose predicted end (domain/turnaround.py) plus the job's margin passes
  the deadline is left running until its last safe moment: the deadline, less the margin, less
  a conservative estimate of answering its unanswered requests on the faster tier
  (domain/deadlines.py `must_move`) — all it answers until then is at half price. Then its
  requests are marked late (`hurry`, per batch: only the late provider and model) and it is
  canceled at its provider (`mark_moving` first, so a crash before the cancel or a failed cancel
  is tried again a minute later). The poller then collects it as usual: every answer already
  there is recorded at the batch price and never asked again; the requests it did not answer
  come back as retries (a canceled row is worth another attempt), marked late;
- queued requests of a (provider, model) group for which a new batch would end too late go into
  a batch as usual while there is time, and are marked late once their last safe moment has
  come; the job's other groups keep going by batch;
- requests marked late are sent on the faster tier, as a realtime job's are
  (engine/realtime.py): under the job's sending lease, assigned to the job's pseudo-batch
  `dl_<job>` first, each answer written the moment it is in. A crash re-sends only requests
  without a result; a request answered by its batch is never in the pseudo-batch.
Without a deadline none of this runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from corthex import clock
from corthex.domain.capabilities import tier_for
from corthex.domain.deadlines import is_late, must_move, with_batch_price
from corthex.domain.events import RequestsMoved
from corthex.domain.records import BatchRow, DeadlineJob
from corthex.domain.requests import ProviderName
from corthex.domain.results import FinalResult
from corthex.domain.tiers import Tier
from corthex.domain.turnaround import OpenBatch, PastBatch, predict
from corthex.engine.cancel import stop_remote
from corthex.engine.context import EngineContext
from corthex.engine.realtime import finish_ready_jobs, send_job_calls
from corthex.engine.tiers import answer_on_tier
from corthex.providers.base import WireItem

log = logging.getLogger(__name__)

#: a batch marked moved but still open after this long is canceled again (the cancel failed,
#: or the process died between the mark and the cancel)
CANCEL_AGAIN_AFTER = 60.0


def deadline_batch_id(job_id: str) -> str:
    """The pseudo-batch of a job's requests sent on a faster tier for its deadline."""
    return "dl_" + job_id


async def keep_deadlines(ctx: EngineContext) -> int:
    """One round over the running jobs with a deadline; how many requests were sent faster."""
    jobs = await ctx.store.deadline_jobs()
    if not jobs:
        return 0
    history = await ctx.store.turnaround_history()
    sent = 0
    for job in jobs:
        sent += await _keep(ctx, job, history)
    return sent


async def _keep(ctx: EngineContext, job: DeadlineJob, history: Sequence[PastBatch]) -> int:
    now = clock.now()
    concurrency = ctx.settings.provider_concurrency
    for batch in job.batches:
        end = _predicted_end(history, batch, now)
        unanswered = job.held.get(batch.id, batch.request_count)
        if is_late(end, job.deadline, job.margin) and must_move(now, job.deadline, job.margin, unanswered, concurrency):
            # its requests marked first: once canceled they come back as retries, never into a batch
            await ctx.store.hurry(job.job_id, now, batch_id=batch.id)
            await _move_batch(ctx, job, batch, end, now)
    fast = sum(job.fast_queued.values())
    for group, count in job.queued.items():
        late = _late_group(history, job, group, count, now, concurrency)
        if late is not None:
            await ctx.store.hurry(job.job_id, now, group=group)  # before the event: who reads the job sees it
            await ctx.bus.publish(late)
            fast += count
    waiting = fast + job.held.get(deadline_batch_id(job.job_id), 0)
    return await send_faster(ctx, job.job_id) if waiting else 0


def _predicted_end(history: Sequence[PastBatch], batch: BatchRow, now: float) -> float:
    started = batch.submitted_at if batch.submitted_at is not None else now
    open_batch = OpenBatch(
        batch.provider.value, batch.model, batch.request_count, max(now - started, 0.0), batch.done_count
    )
    prediction = predict(history, open_batch)
    # one line per batch and round at DEBUG: what the predictor said, for judging it (bench/deadlines.py)
    log.debug(
        "batch %s: predicted end %.3f at age %.3f (%d/%d done, %s, %d samples)",
        batch.id,
        prediction.end(started),
        open_batch.age,
        open_batch.done,
        open_batch.size,
        prediction.basis,
        prediction.samples,
        extra={"prediction": (batch.id, now, started, prediction.end(started), prediction.basis)},
    )
    return prediction.end(started)


def _late_group(
    history: Sequence[PastBatch], job: DeadlineJob, group: tuple[str, str], count: int, now: float, concurrency: int
) -> RequestsMoved | None:
    """Whether a group's queued requests go faster now: a new batch of them would end too late
    and their last safe moment has come (the event saying so), or None. A late group with time
    left goes into a batch as usual: all that batch answers before its last safe moment is at
    half price, and it is moved then (waiting queued instead would save nothing)."""
    provider, model = group
    end = predict(history, OpenBatch(provider, model, count, 0.0)).end(now)
    if not is_late(end, job.deadline, job.margin) or not must_move(now, job.deadline, job.margin, count, concurrency):
        return None
    tier = faster_tier(provider, model).value
    return RequestsMoved(
        job_id=job.job_id, requests=count, tier=tier, deadline=job.deadline, predicted_end=end, provider=provider
    )


async def _move_batch(ctx: EngineContext, job: DeadlineJob, batch: BatchRow, end: float, now: float) -> None:
    """Cancel a late batch at its provider; its collection keeps what it answered."""
    if batch.remote is None or not await ctx.store.mark_moving(batch.id, now, again_after=CANCEL_AGAIN_AFTER):
        return
    log.info(
        "job %s: batch %s expected at %.0f, past its deadline %.0f: canceled", job.job_id, batch.id, end, job.deadline
    )
    await stop_remote(ctx, batch.id, batch.provider.value, batch.remote)
    await ctx.bus.publish(
        RequestsMoved(
            job_id=job.job_id,
            requests=job.held.get(batch.id, 0),
            tier=faster_tier(batch.provider.value, batch.model).value,
            deadline=job.deadline,
            predicted_end=end,
            batch_id=batch.id,
            provider=batch.provider.value,
        )
    )


async def send_faster(ctx: EngineContext, job_id: str) -> int:
    """Send a hurried job's queued requests (and any its pseudo-batch still owes) on the faster
    tier; how many answers were written. Nothing is sent while another live process holds the
    job's sending lease."""
    finals = await send_job_calls(
        ctx,
        job_id,
        deadline_batch_id(job_id),
        lambda item: _send_fast(ctx, item),
        after_answer="after_deadline_answer",
        after_take="after_deadline_take",
        hurried_only=True,
    )
    if finals is None:
        return 0
    await finish_ready_jobs(ctx)
    return len(finals)


def faster_tier(provider: str, model: str | None) -> Tier:
    """Flex where the model takes it (OpenAI's flex processing, at the batch rates), else realtime."""
    return tier_for(ProviderName(provider), model or "", Tier.FLEX)


async def _send_fast(ctx: EngineContext, item: WireItem) -> FinalResult:
    """The one call on the faster tier (engine/tiers.py: bounded per provider, 429 and
    retry-after honoured; flex refused for good goes realtime), priced at the tier that answered
    and at what it would have cost in a batch (the deadline's cost over all-batch)."""
    final = await answer_on_tier(ctx, item, Tier.FLEX)
    return with_batch_price(final, item.request.provider, item.request.model)
