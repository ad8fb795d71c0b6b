"""Jobs: submit (JSON or a JSONL upload), list, get, results as a JSONL stream, cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from corthex.api.schemas import (
    CanceledJob,
    ErrorBody,
    Job,
    JobDetail,
    Problem,
    Retried,
    RetryBody,
    SubmitBody,
    Submitted,
)
from corthex.api.state import ServerState, server_state
from corthex.api.uploads import saved_upload
from corthex.domain.jobs import JobStatus
from corthex.domain.results import ResultStatus
from corthex.engine.engine import SubmitReport
from corthex.errors import UsageError

router = APIRouter(prefix="/jobs", tags=["jobs"])
State = Annotated[ServerState, Depends(server_state)]
ERRORS: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorBody, "description": "Over the daily budget (CORTHEX_DAILY_BUDGET_USD): nothing submitted"},
    404: {"model": ErrorBody, "description": "No such job"},
    422: {"model": ErrorBody, "description": "Invalid input: every problem named by item/line and field"},
}


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Send the same key again (e.g. a retry after a timeout) to get the job the first call "
        "created, with 200 and `replayed: true`; the same key with other requests is refused (422)",
    ),
]


def submitted(report: SubmitReport, response: Response | None = None) -> Submitted:
    skipped = [Problem(line=p.line, unit=p.unit, field=p.field, reason=p.reason) for p in report.skipped]
    if report.replayed and response is not None:
        response.status_code = 200  # nothing created this time
    return Submitted(
        job_id=report.job_id,
        total=report.total,
        queued=report.queued,
        skipped=skipped,
        warnings=report.warnings,
        replayed=report.replayed,
    )


@router.post("", status_code=201, response_model=Submitted, responses=ERRORS)
async def submit(
    body: SubmitBody, state: State, response: Response, idempotency_key: IdempotencyKey = None
) -> Submitted:
    """Validate the requests and record them as a job (or put them in the queue with `queue`).
    An invalid item refuses the whole body unless `skip_invalid`."""
    report = await state.engine.submit(
        body.requests,
        skip_invalid=body.skip_invalid,
        queue=body.queue,
        source="api",
        label=body.label,
        idempotency_key=idempotency_key,
        deadline=body.deadline,
        deadline_margin=body.deadline_margin,
    )
    return submitted(report, response)


@router.post("/upload", status_code=201, response_model=Submitted, responses=ERRORS)
async def upload(
    state: State,
    response: Response,
    file: Annotated[UploadFile, File(description="A JSONL file, one request per line (up to 50 MB)")],
    queue: bool = False,
    skip_invalid: bool = False,
    label: str | None = None,
    encoding: Annotated[str | None, Query(description="The file's encoding when not UTF-8, e.g. cp949")] = None,
    idempotency_key: IdempotencyKey = None,
    deadline: Annotated[
        str | None, Query(description="When every result is wanted: a duration (90m, 2h, 1d) or an ISO timestamp")
    ] = None,
    deadline_margin: Annotated[str | None, Query(description="Time kept before the deadline (e.g. 5m)")] = None,
) -> Submitted:
    """Submit a JSONL file; problems are named by line and field."""
    async with saved_upload(file, state.settings.data_dir) as path:
        report = await state.engine.submit_file(
            path,
            skip_invalid=skip_invalid,
            queue=queue,
            label=label or file.filename or "upload.jsonl",
            encoding=encoding,
            idempotency_key=idempotency_key,
            deadline=deadline,
            deadline_margin=deadline_margin,
        )
    return submitted(report, response)


def known_query(*names: str) -> Callable[[Request], None]:
    """A dependency that refuses query parameters the route does not take (422 naming them): a
    misspelt filter must not return everything as if it had matched."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            takes = ", ".join(names) or "none"
            raise UsageError(f"unknown query parameter {', '.join(map(repr, unknown))}: this takes {takes}")

    return check


@router.get(
    "",
    response_model=list[Job],
    dependencies=[Depends(known_query("limit", "status", "before"))],
    responses={422: {"model": ErrorBody, "description": "An unknown query parameter, or a bad value"}},
)
async def list_jobs(
    state: State,
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    status: JobStatus | None = None,
    before: Annotated[
        str | None, Query(description="A job id (the last of the previous page): the jobs older than it")
    ] = None,
) -> list[dict[str, Any]]:
    """Jobs, newest first, a page of `limit` at a time. When there may be more, the `Link` header
    names the next page (`rel="next"`, with `before` set to this page's last job)."""
    jobs = await state.engine.jobs(limit=limit, status=status, before=before)
    if len(jobs) == limit:
        following = request.url.include_query_params(before=jobs[-1].id)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [j.to_dict() for j in jobs]


@router.get("/{job_id}", response_model=JobDetail, responses=ERRORS)
async def get_job(job_id: str, state: State) -> dict[str, Any]:
    """The job with its batches; a batch shared with other jobs says how many of its requests are this job's."""
    summary = await state.engine.status(job_id)
    shares = await state.engine.batch_shares(job_id)
    batches = []
    for b in await state.engine.batches(job_id):
        mine, others = shares.get(b.id, (b.request_count, 0))
        batches.append({**b.to_dict(), "job_requests": mine, "shared_with_jobs": others})
    return {**summary.to_dict(), "batch_list": batches}


def result_statuses(
    status: Annotated[
        str | None, Query(description="Only results of these statuses, comma-separated: e.g. failed,expired")
    ] = None,
) -> list[ResultStatus] | None:
    if status is None:
        return None
    words = [w.strip() for w in status.split(",") if w.strip()]
    known = [s.value for s in ResultStatus]
    bad = [w for w in words if w not in known]
    if bad or not words:
        raise UsageError(f"unknown result status {', '.join(map(repr, bad or [status]))}: use {', '.join(known)}")
    return [ResultStatus(w) for w in words]


@router.get(
    "/{job_id}/results",
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One JSON line per result"}, **ERRORS},
    response_class=StreamingResponse,
)
async def results(
    job_id: str,
    state: State,
    statuses: Annotated[list[ResultStatus] | None, Depends(result_statuses)],
    _known: Annotated[None, Depends(known_query("status"))],
) -> StreamingResponse:
    """The results so far, in input order, streamed as JSONL (a download); `?status=failed,expired`
    keeps only those."""
    await state.engine.status(job_id)  # 404 before the stream starts

    async def lines() -> AsyncIterator[bytes]:
        async for line in state.engine.results(job_id, statuses=statuses):
            yield orjson.dumps(line) + b"\n"

    headers = {"Content-Disposition": f'attachment; filename="{job_id}-results.jsonl"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


ENDED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The job has ended already: nothing changed"}
}


@router.post("/{job_id}/retry", status_code=201, response_model=Retried, responses=ERRORS)
async def retry(
    job_id: str,
    state: State,
    response: Response,
    body: RetryBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Send the job's failed and expired requests (or those of `status`) again, the same bodies
    under the same custom_ids, as a new job linked to it (`retry_of`). 422 when it has none."""
    statuses = [ResultStatus(s) for s in (body or RetryBody()).status]
    report = await state.engine.retry(job_id, statuses, source="api", idempotency_key=idempotency_key)
    if report.replayed:
        response.status_code = 200  # nothing created this time
    return {**(await state.engine.status(report.job_id)).to_dict(), "replayed": report.replayed}


@router.post("/{job_id}/cancel", response_model=CanceledJob, responses={**ERRORS, **ENDED})
async def cancel(job_id: str, state: State) -> dict[str, Any]:
    """Cancel: no request of the job goes out any more, its batches are canceled at their
    providers (shared with another job: its requests are dropped from them); results already in
    are kept. `stopped` says what was stopped. A job that has ended already is left as it is (409)."""
    return (await state.engine.cancel(job_id)).to_dict()
