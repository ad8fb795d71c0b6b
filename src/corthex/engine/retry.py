"""Sending a job's failed (or expired, or canceled) requests again, as a new job that names the
first (`retry_of`): the same request bodies under the same custom_ids, through the one
submission path (engine/submission.py, by `Engine._record`)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from corthex.domain.results import ResultStatus
from corthex.engine.context import EngineContext
from corthex.engine.intake import Intake, read_objects
from corthex.errors import NothingToRetry


async def retry_intake(ctx: EngineContext, job_id: str, statuses: Sequence[ResultStatus]) -> Intake:
    """The requests of `job_id` whose result has one of `statuses`, validated again as new input.

    :raises NotFound: no such job.
    :raises NothingToRetry: none of its results has those statuses."""
    await ctx.store.get_job(job_id)
    names = [s.value for s in statuses]
    bodies = await ctx.store.requests_with_results(job_id, names)
    if not bodies:
        raise NothingToRetry(job_id, names)
    return read_objects([orjson.loads(body) for body in bodies], skip_invalid=False)
