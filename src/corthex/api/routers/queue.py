"""The queue: add (JSON or a JSONL upload), list, flush, clear."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile

from corthex.api.routers.jobs import ERRORS, submitted
from corthex.api.schemas import Cleared, Flushed, QueueBody, QueueState, Submitted
from corthex.api.state import ServerState, server_state
from corthex.api.uploads import saved_upload
from corthex.domain.jobs import JobStatus

router = APIRouter(prefix="/queue", tags=["queue"])
State = Annotated[ServerState, Depends(server_state)]
MAX_JOBS = 10_000


@router.post("", status_code=201, response_model=Submitted, responses=ERRORS)
async def add(body: QueueBody, state: State) -> Submitted:
    """Validate the requests and put them in the queue (sent by a flush, or automatically by
    size or age)."""
    report = await state.engine.submit(
        body.requests, skip_invalid=body.skip_invalid, queue=True, source="queue", label=body.label
    )
    return submitted(report)


@router.post("/upload", status_code=201, response_model=Submitted, responses=ERRORS)
async def add_file(
    state: State,
    file: Annotated[UploadFile, File(description="A JSONL file, one request per line (up to 50 MB)")],
    skip_invalid: bool = False,
    encoding: Annotated[str | None, Query(description="The file's encoding when not UTF-8, e.g. cp949")] = None,
) -> Submitted:
    async with saved_upload(file, state.settings.data_dir) as path:
        report = await state.engine.submit_file(
            path, skip_invalid=skip_invalid, queue=True, label=file.filename or "upload.jsonl", encoding=encoding
        )
    return submitted(report)


@router.get("", response_model=QueueState)
async def list_queue(state: State) -> dict[str, Any]:
    queue = await state.engine.queue_stats()
    jobs = await state.engine.jobs(status=JobStatus.QUEUED, limit=1000)
    return {"requests": queue.requests, "oldest_at": queue.oldest_at, "jobs": [j.to_dict() for j in jobs]}


@router.post("/flush", response_model=Flushed)
async def flush(state: State) -> Flushed:
    """Send everything in the queue now: one batch per provider (and model where needed)."""
    return Flushed(released=await state.engine.flush())


@router.delete("", response_model=Cleared)
async def clear(state: State) -> Cleared:
    """Drop the queue: every queued job is canceled (its requests get `canceled` results)."""
    canceled, count = await state.engine.clear_queue(max_jobs=MAX_JOBS)
    return Cleared(canceled_jobs=canceled, canceled_requests=count)
