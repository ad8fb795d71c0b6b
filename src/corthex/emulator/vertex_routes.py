"""Vertex AI batch prediction jobs under `/vertex/{v1|v1beta1}/projects/{p}/locations/{l}/…`
(docs/wire/platforms.md §3), reading the input from and writing the output to a Cloud Storage
JSON API (the local `gcp-storage-emulator` in tests: `EmulatorConfig.gcs_url`, else
STORAGE_EMULATOR_HOST), answering each line with the Gemini answer generator.

The job is the REST `BatchPredictionJob` (camelCase) the SDK parses into `BatchJob`. When it ends,
`{outputUriPrefix}/prediction-model-{time}/predictions.jsonl` gets one
`{status, processed_time, request, response}` line per request run (a failed one: `status`
holds the error, no `response`), in no particular order; a cancelled or expired job exports
the rows it ran only (§3.4).
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from corthex.emulator.asks import RowProblem, gemini_ask, gemini_problem, pick
from corthex.emulator.errors import EmulatorError
from corthex.emulator.gemini_render import generate_response
from corthex.emulator.guard import get_state, guard
from corthex.emulator.http import json_response, query_int, read_json
from corthex.emulator.ids import LOWER, rfc3339
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline, snapshot
from corthex.emulator.state import EmulatorState
from corthex.providers.gcs import EMULATOR_VARIABLE, GcsClient, GcsError, GsUri

router = APIRouter(prefix="/vertex")
P = "vertex"
VERSIONS = ("v1", "v1beta1")
STATES = {
    Phase.VALIDATING: "JOB_STATE_PENDING",
    Phase.RUNNING: "JOB_STATE_RUNNING",
    Phase.FINALIZING: "JOB_STATE_RUNNING",
    Phase.CANCELLING: "JOB_STATE_CANCELLING",
    Phase.COMPLETED: "JOB_STATE_SUCCEEDED",
    Phase.FAILED: "JOB_STATE_FAILED",
    Phase.CANCELLED: "JOB_STATE_CANCELLED",
    Phase.EXPIRED: "JOB_STATE_EXPIRED",
}
FAILED_ERROR = {"code": 8, "message": "Quota exceeded for batch prediction (emulated fail_batch fault)."}


@dataclass
class VertexJob:
    id: str
    parent: str  #: projects/{p}/locations/{l}
    body: dict[str, Any]  #: the create body (model, inputConfig, outputConfig, displayName)
    requests: list[Any]
    problems: dict[int, RowProblem]
    timeline: Timeline
    output_dir: str | None = None  #: set once the predictions are written
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        return f"{self.parent}/batchPredictionJobs/{self.id}"


def _jobs(state: EmulatorState) -> dict[str, VertexJob]:
    return state.vertex_jobs


def gcs_client(state: EmulatorState) -> GcsClient:
    endpoint = state.config.gcs_url or os.environ.get(EMULATOR_VARIABLE, "")
    if not endpoint:
        raise EmulatorError(
            P, 500, f"the emulator has no Cloud Storage: set {EMULATOR_VARIABLE} (gcp-storage-emulator)"
        )
    return GcsClient(endpoint if "://" in endpoint else f"http://{endpoint}")


def _check(version: str) -> None:
    if version not in VERSIONS:
        raise EmulatorError(P, 404, f"Unknown API version {version!r} (one of {', '.join(VERSIONS)}).")


def _uri(config: Any, path: tuple[str, ...], what: str) -> str:
    value = config
    for key in path:
        value = pick(value, key) if isinstance(value, dict) else None
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if not isinstance(value, str) or not value.startswith("gs://"):
        raise EmulatorError(P, 400, f"{what} must be one gs:// URI (the emulator takes Cloud Storage JSONL only).")
    return value


@router.post(
    "/{version}/projects/{project}/locations/{location}/batchPredictionJobs", dependencies=[guard(P, "create")]
)
async def create(request: Request, version: str, project: str, location: str) -> Response:
    _check(version)
    state = get_state(request)
    body = await read_json(request, P)
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise EmulatorError(P, 400, "BatchPredictionJob.model is required.")
    source = _uri(body.get("inputConfig"), ("gcsSource", "uris"), "inputConfig.gcsSource.uris")
    _uri(body.get("outputConfig"), ("gcsDestination", "outputUriPrefix"), "outputConfig.gcsDestination.outputUriPrefix")
    requests = await _read_input(state, source)
    model = body["model"].rsplit("/", 1)[-1]
    problems = {i: p for i, r in enumerate(requests) if (p := gemini_problem(r, model)) is not None}
    faults = state.faults.take_batch_faults(P)
    timeline = state.config.timeline(state.now(), len(requests), faults, validate=True, finalize=False)
    timeline.fails = faults.fail or not requests
    job_id = "".join(random.choice(LOWER[26:]) for _ in range(19))  # a numeric id, as Vertex's
    job = VertexJob(job_id, f"projects/{project}/locations/{location}", body, requests, problems, timeline)
    _jobs(state)[job_id] = job
    state.counters.record_create_body(P, display_name=body.get("displayName"))
    return json_response(await _job_json(state, job))


async def _read_input(state: EmulatorState, source: str) -> list[Any]:
    storage = gcs_client(state)
    try:
        data = await storage.read(GsUri.parse(source))
    except GcsError as exc:
        raise EmulatorError(P, 400, f"Failed to read the input {source}: {exc}") from None
    finally:
        await storage.aclose()
    lines = []
    for raw in data.splitlines():
        if raw.strip():
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                line = None
            lines.append(line.get("request") if isinstance(line, dict) else None)
    return lines


@router.get(
    "/{version}/projects/{project}/locations/{location}/batchPredictionJobs/{job_id}",
    dependencies=[guard(P, "retrieve")],
)
async def get(request: Request, version: str, project: str, location: str, job_id: str) -> Response:
    _check(version)
    state = get_state(request)
    return json_response(await _job_json(state, _job(state, project, location, job_id)))


@router.post(
    "/{version}/projects/{project}/locations/{location}/batchPredictionJobs/{job_id}:cancel",
    dependencies=[guard(P, "cancel")],
)
async def cancel(request: Request, version: str, project: str, location: str, job_id: str) -> Response:
    _check(version)
    state = get_state(request)
    job = _job(state, project, location, job_id)
    if not _snap(state, job).phase.ended and job.timeline.cancel_at is None:
        job.timeline.cancel_at = state.now()
    return json_response({})


@router.get("/{version}/projects/{project}/locations/{location}/batchPredictionJobs", dependencies=[guard(P, "list")])
async def list_jobs(request: Request, version: str, project: str, location: str) -> Response:
    _check(version)
    state = get_state(request)
    size = query_int(request, P, "pageSize", 100, 1, 1000)
    start = int(request.query_params.get("pageToken") or 0)
    parent = f"projects/{project}/locations/{location}"
    mine = sorted((j for j in _jobs(state).values() if j.parent == parent), key=lambda j: -j.timeline.created)
    page = [await _job_json(state, job) for job in mine[start : start + size]]
    body: dict[str, Any] = {"batchPredictionJobs": page}
    if start + size < len(mine):
        body["nextPageToken"] = str(start + size)
    return json_response(body)


def _job(state: EmulatorState, project: str, location: str, job_id: str) -> VertexJob:
    job = _jobs(state).get(job_id)
    if job is None or job.parent != f"projects/{project}/locations/{location}":
        raise EmulatorError(P, 404, f"The BatchPredictionJob {job_id} does not exist.")
    return job


def _snap(state: EmulatorState, job: VertexJob) -> Snapshot:
    return snapshot(job.timeline, state.now(), state.held(job.timeline.faults))


async def _job_json(state: EmulatorState, job: VertexJob) -> dict[str, Any]:
    snap = _snap(state, job)
    if snap.phase.ended and snap.phase is not Phase.FAILED:
        await _write_output(state, job, snap)
    out: dict[str, Any] = {
        "name": job.name,
        "displayName": job.body.get("displayName", ""),
        "model": job.body["model"],
        "inputConfig": job.body.get("inputConfig"),
        "outputConfig": job.body.get("outputConfig"),
        "state": STATES[snap.phase],
        "createTime": rfc3339(job.timeline.created),
        "updateTime": rfc3339(max(snap.times.values())),
        "completionStats": _stats(job, snap),
    }
    if Phase.RUNNING in snap.times:
        out["startTime"] = rfc3339(snap.times[Phase.RUNNING])
    if snap.phase.ended:
        out["endTime"] = rfc3339(snap.times[snap.phase])
    if job.output_dir is not None:
        out["outputInfo"] = {"gcsOutputDirectory": job.output_dir}
    if snap.phase is Phase.FAILED:
        out["error"] = FAILED_ERROR if job.requests else {"code": 3, "message": "The input file has no requests."}
    return out


def _stats(job: VertexJob, snap: Snapshot) -> dict[str, str]:
    failed = sum(1 for index in job.problems if index < snap.done)
    incomplete = len(job.requests) - snap.done
    return {"successfulCount": str(snap.done - failed), "failedCount": str(failed), "incompleteCount": str(incomplete)}


async def _write_output(state: EmulatorState, job: VertexJob, snap: Snapshot) -> None:
    async with job.lock:
        if job.output_dir is not None:
            return
        prefix = _uri(job.body.get("outputConfig"), ("gcsDestination", "outputUriPrefix"), "outputUriPrefix")
        directory = GsUri.parse(prefix).child(f"prediction-model-{rfc3339(snap.times[snap.phase])}")
        rows = [orjson.dumps(_row(state, job, index, snap)) + b"\n" for index in range(snap.done)]
        random.Random(job.id).shuffle(rows)  # the output's order is not the input's (§3.3)
        if rows:  # no row ran (cancelled at once): no file (gcp-storage-emulator refuses an empty upload)
            storage = gcs_client(state)
            try:
                await storage.upload(directory.child("predictions.jsonl"), b"".join(rows))
            finally:
                await storage.aclose()
        job.output_dir = str(directory)


def _row(state: EmulatorState, job: VertexJob, index: int, snap: Snapshot) -> dict[str, Any]:
    request = job.requests[index]
    when = rfc3339(snap.times[snap.phase]).replace("Z", "+00:00")
    problem = job.problems.get(index)
    if problem is not None:
        error = {"code": 400, "message": problem.message, "status": "INVALID_ARGUMENT"}
        status = f"Bad Request: {orjson.dumps({'error': error}).decode()}"  # the text form: UNVERIFIED
        return {"status": status, "processed_time": when, "request": request}
    model = str(job.body["model"]).rsplit("/", 1)[-1]
    response = generate_response(gemini_ask(model, request), f"{job.id}:{index}", state.cache)
    return {"status": "", "processed_time": when, "request": request, "response": response}
