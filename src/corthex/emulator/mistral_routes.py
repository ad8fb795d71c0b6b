"""Mistral Files + Batch jobs + chat completions, served under `/mistral` (docs/wire/platforms.md §4).

MISTRAL_BASE_URL=http://HOST:PORT/mistral is the SDK's `server_url`: it adds `/v1/...` itself.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from corthex.emulator.errors import EmulatorError
from corthex.emulator.guard import get_state, guard
from corthex.emulator.http import json_response, query_int, read_json
from corthex.emulator.lifecycle import Phase, Snapshot, initial, snapshot
from corthex.emulator.mistral_batches import (
    CHAT,
    ENDPOINTS,
    MAX_FILE_BYTES,
    MAX_TIMEOUT_HOURS,
    PURPOSES,
    STATUS,
    MistralFile,
    MistralJob,
    completion,
    find_problems,
    job_json,
    new_uuid,
    read_rows,
    row_problem,
    write_results,
)
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/mistral/v1")


def _err(status: int, message: str) -> EmulatorError:
    return EmulatorError("mistral", status, message)


# --- files -------------------------------------------------------------------------------------


@router.post("/files", dependencies=[guard("mistral", "upload")])
async def upload_file(request: Request) -> Response:
    state = get_state(request)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        purpose = str(form.get("purpose") or "fine-tune")  # the API's default purpose
        if purpose not in PURPOSES:
            raise _err(422, f"Input should be {', '.join(repr(p) for p in PURPOSES)}: purpose")
        if not isinstance(upload, UploadFile):
            raise _err(422, "Field required: file")
        file_id = new_uuid()
        path = state.mistral.file_path(file_id)
        size, lines = await asyncio.to_thread(_save, upload, path)
    if size > MAX_FILE_BYTES:
        await asyncio.to_thread(path.unlink, True)
        raise _err(400, f"File is too large: {size} bytes; the limit is {MAX_FILE_BYTES} bytes.")
    stored = MistralFile(file_id, upload.filename or "upload", purpose, size, int(state.now()), path, lines)
    state.mistral.files[file_id] = stored
    state.counters.record_upload("mistral")
    return json_response(stored.to_json())


def _save(upload: UploadFile, path: Path) -> tuple[int, int]:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
        size = out.tell()
    with path.open("rb") as src:
        lines = sum(1 for raw in src if raw.strip())
    return size, lines


@router.get("/files/{file_id}", dependencies=[guard("mistral", "retrieve")])
async def retrieve_file(request: Request, file_id: str) -> Response:
    return json_response({**_file(request, file_id).to_json(), "deleted": False})


@router.get("/files/{file_id}/content", dependencies=[guard("mistral", "results")])
async def file_content(request: Request, file_id: str) -> Response:
    return FileResponse(_file(request, file_id).path, media_type="application/octet-stream")


def _file(request: Request, file_id: str) -> MistralFile:
    stored = get_state(request).mistral.files.get(file_id)
    if stored is None:
        raise _err(404, f"File {file_id} not found")
    return stored


# --- batch jobs --------------------------------------------------------------------------------


@router.post("/batch/jobs", dependencies=[guard("mistral", "create")])
async def create_job(request: Request) -> Response:
    state = get_state(request)
    body = await read_json(request, "mistral")
    state.counters.record_create_body("mistral", metadata=body.get("metadata") if isinstance(body, dict) else None)
    sources = _check_create(state, body)
    faults = state.faults.take_batch_faults("mistral")
    if sources:
        rows, errors = await asyncio.to_thread(read_rows, [f.path for f in sources])
    else:
        rows, errors = _inline_rows(body.get("requests")), []
    if faults.fail and not errors:
        errors.append({"message": "The batch job failed (emulated fault).", "count": 1})
    timeline = state.config.timeline(state.now(), len(rows), faults, validate=True, finalize=False)
    timeline.fails = bool(errors)
    job = MistralJob(
        id=new_uuid(),
        model=body["model"],
        endpoint=body["endpoint"],
        input_files=[f.id for f in sources],
        rows=rows,
        metadata=body.get("metadata"),
        timeline=timeline,
        problems=find_problems(rows, faults),
        errors=errors,
    )
    state.mistral.jobs[job.id] = job
    first = rows[0].get("custom_id") if rows else None
    wire_bytes = sum(f.bytes for f in sources) or None
    state.counters.record_batch(
        "mistral", job.id, len(rows), metadata=job.metadata, first_custom_id=first, wire_bytes=wire_bytes
    )
    return json_response(job_json(job, initial(timeline)))


def _check_create(state: EmulatorState, body: Any) -> list[MistralFile]:
    """The job's input files (none for inline `requests`); refuses what the API refuses."""
    if not isinstance(body, dict):
        raise _err(422, "Input should be a valid dictionary")
    if body.get("endpoint") not in ENDPOINTS:
        raise _err(422, f"Input should be one of {', '.join(ENDPOINTS)}: endpoint")
    if body.get("endpoint") != CHAT:
        raise _err(400, f"The emulator serves {CHAT} batches only.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _err(400, "A model is required for a batch job (or an agent_id).")
    hours = body.get("timeout_hours", 24)
    if not isinstance(hours, int) or not 1 <= hours < MAX_TIMEOUT_HOURS:
        raise _err(422, f"timeout_hours must be an integer from 1 to {MAX_TIMEOUT_HOURS - 1}")
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _err(422, "Input should be a valid string: metadata")
    files, requests = body.get("input_files"), body.get("requests")
    if bool(files) == bool(requests):
        raise _err(400, "Give either input_files or requests.")
    return [_input_file(state, file_id) for file_id in files or []]


def _input_file(state: EmulatorState, file_id: Any) -> MistralFile:
    stored = state.mistral.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        raise _err(404, f"File {file_id} not found")
    if stored.purpose != "batch":
        raise _err(400, f"File {file_id} has purpose '{stored.purpose}'; batch inputs have purpose 'batch'.")
    return stored


def _inline_rows(requests: Any) -> list[dict[str, Any]]:
    if not isinstance(requests, list) or not all(
        isinstance(r, dict) and isinstance(r.get("body"), dict) for r in requests
    ):
        raise _err(422, "Each of requests needs a 'body' object")
    return [{"custom_id": r.get("custom_id"), "body": r["body"]} for r in requests]


@router.get("/batch/jobs", dependencies=[guard("mistral", "list")])
async def list_jobs(request: Request) -> Response:
    state = get_state(request)
    page = query_int(request, "mistral", "page", 0, 0, 1_000_000)
    size = query_int(request, "mistral", "page_size", 100, 1, 1000)
    jobs = list(state.mistral.jobs.values())
    if request.query_params.get("order_by", "-created") == "-created":
        jobs.reverse()
    chosen = jobs[page * size : (page + 1) * size]
    data = [await _render(state, job) for job in chosen]
    return json_response({"data": data, "object": "list", "total": len(jobs)})


@router.get("/batch/jobs/{job_id}", dependencies=[guard("mistral", "retrieve")])
async def get_job(request: Request, job_id: str) -> Response:
    state = get_state(request)
    inline = request.query_params.get("inline") == "true"
    return json_response(await _render(state, _job(state, job_id), inline=inline))


@router.post("/batch/jobs/{job_id}/cancel", dependencies=[guard("mistral", "cancel")])
async def cancel_job(request: Request, job_id: str) -> Response:
    state = get_state(request)
    job = _job(state, job_id)
    phase = _snap(state, job).phase
    if phase in (Phase.COMPLETED, Phase.FAILED, Phase.EXPIRED):
        raise _err(400, f"Cannot cancel a batch job with status {STATUS[phase]}.")
    if job.timeline.cancel_at is None:
        job.timeline.cancel_at = state.now()
    return json_response(await _render(state, job))


def _job(state: EmulatorState, job_id: str) -> MistralJob:
    job = state.mistral.jobs.get(job_id)
    if job is None:
        raise _err(404, f"Batch job {job_id} not found")
    return job


def _snap(state: EmulatorState, job: MistralJob) -> Snapshot:
    return snapshot(job.timeline, state.now(), state.held(job.timeline.faults))


async def _render(state: EmulatorState, job: MistralJob, *, inline: bool = False) -> dict[str, Any]:
    snap = _snap(state, job)
    if snap.phase in (Phase.COMPLETED, Phase.CANCELLED, Phase.EXPIRED) and not job.written:
        async with job.lock:
            if not job.written:
                await _write_files(state, job, snap)
                job.written = True
    return job_json(job, snap, inline=inline)


async def _write_files(state: EmulatorState, job: MistralJob, snap: Snapshot) -> None:
    out_id, err_id = new_uuid(), new_uuid()
    out_path, err_path = state.mistral.file_path(out_id), state.mistral.file_path(err_id)
    counts = await asyncio.to_thread(write_results, job, snap, out_path, err_path)
    now = int(state.now())
    for file_id, path, rows, kind in ((out_id, out_path, counts[0], "result"), (err_id, err_path, counts[1], "error")):
        if rows == 0:
            await asyncio.to_thread(path.unlink, True)
            continue
        name = f"{job.id}_{kind}.jsonl"
        size = path.stat().st_size
        stored = MistralFile(file_id, name, "batch", size, now, path, rows, sample_type=f"batch_{kind}")
        state.mistral.files[file_id] = stored
        if kind == "result":
            job.output_file = file_id
        else:
            job.error_file = file_id


# --- realtime ----------------------------------------------------------------------------------


@router.post("/chat/completions", dependencies=[guard("mistral", "realtime")])
async def chat_completions(request: Request) -> Response:
    state = get_state(request)
    body = await read_json(request, "mistral")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise _err(422, "Field required: model")
    problem = row_problem(body)
    if problem is not None:
        raise _err(problem.status, problem.message)
    seed = new_uuid()
    return json_response(completion(body["model"], body, seed, int(state.now())))
