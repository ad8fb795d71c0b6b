"""Amazon Bedrock's batch inference control plane, served under `/bedrock` (rest-json, as botocore's
`data/bedrock/2023-04-20/service-2.json` defines it): AWS_ENDPOINT_URL_BEDROCK=http://HOST:PORT/bedrock.

The jobs' input and output live in a real S3 (moto's server in tests): the emulator reads and writes
it at the endpoint its config names (or AWS_ENDPOINT_URL_S3).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from corthex.domain.bedrock_models import neutral_name
from corthex.emulator.anthropic_batches import message_json
from corthex.emulator.bedrock_jobs import (
    ACTIVE,
    BedrockError,
    BedrockJob,
    check_create,
    count_problem,
    input_uri,
    job_json,
    read_input,
    record_problem,
    s3_client,
    validation,
    write_output,
)
from corthex.emulator.guard import BAD_KEY, get_state
from corthex.emulator.lifecycle import Phase, Snapshot, snapshot
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/bedrock")
#: bedrock-runtime's InvokeModel (realtime calls): AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://HOST:PORT/bedrock-runtime
runtime_router = APIRouter(prefix="/bedrock-runtime")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)")


def _answer(body: Any, status: int = 200, code: str | None = None) -> Response:
    headers = {"x-amzn-ErrorType": code} if code else {}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def _error(exc: BedrockError) -> Response:
    return _answer({"message": exc.message}, exc.status, exc.code)


def _check_auth(request: Request) -> None:
    """SigV4's access key id (or Bedrock's bearer API key): `bad-key` is refused as AWS refuses an
    unknown key (403 UnrecognizedClientException), none at all as unsigned (403)."""
    auth = request.headers.get("authorization", "")
    if not auth:
        raise BedrockError("AccessDeniedException", 403, "Missing Authentication Token")
    found = _CREDENTIAL.search(auth)
    key = found.group(1) if found else auth.removeprefix("Bearer ").strip()
    if key == BAD_KEY:
        raise BedrockError("UnrecognizedClientException", 403, "The security token included in the request is invalid.")


def _count(request: Request, op: str) -> EmulatorState:
    state = get_state(request)
    state.counters.count_call("bedrock", op)
    return state


def _s3(state: EmulatorState) -> Any:
    if state.bedrock_s3 is None:
        state.bedrock_s3 = s3_client(state.config.s3_endpoint)
    return state.bedrock_s3


@router.post("/model-invocation-job")
async def create_job(request: Request) -> Response:
    state = _count(request, "create")
    try:
        _check_auth(request)
        body = check_create(orjson.loads(await request.body() or b"null"))
    except orjson.JSONDecodeError:
        return _error(BedrockError("SerializationException", 400, "The request body is not valid JSON."))
    except BedrockError as exc:
        return _error(exc)
    token = body.get("clientRequestToken")
    known = state.bedrock.by_token.get(token) if token else None
    if known is not None:  # "Amazon Bedrock ignores the request, but does not return an error"
        return _answer({"jobArn": state.bedrock.jobs[known].arn})
    files, problem = await asyncio.to_thread(read_input, _s3(state), input_uri(body))
    job_id = state.bedrock.new_id()
    n = sum(len(f.records) for f in files)
    problem = problem or count_problem(n, state.config.bedrock_min_records, state.config.bedrock_max_records)
    timeline = state.config.timeline(
        state.now(), n, state.faults.take_batch_faults("bedrock"), validate=True, finalize=True
    )
    timeline.fails = problem is not None
    job = BedrockJob(job_id, body, timeline, files, message=problem)
    state.bedrock.jobs[job_id] = job
    if token:
        state.bedrock.by_token[token] = job_id
    state.counters.record_batch("bedrock", job_id, n, display_name=body["jobName"])
    return _answer({"jobArn": job.arn})


async def _seen(state: EmulatorState, job: BedrockJob) -> Snapshot:
    """The job now, its output written to S3 the first time it is seen ended."""
    snap = snapshot(job.timeline, state.now(), state.held(job.timeline.faults))
    if snap.phase.ended and snap.phase is not Phase.FAILED and not job.written:
        await asyncio.to_thread(write_output, _s3(state), job, snap)
    return snap


@router.get("/model-invocation-job/{identifier:path}")
async def get_job(request: Request, identifier: str) -> Response:
    state = _count(request, "retrieve")
    try:
        _check_auth(request)
        job = state.bedrock.get(identifier)
    except BedrockError as exc:
        return _error(exc)
    return _answer(job_json(job, await _seen(state, job)))


@router.get("/model-invocation-jobs")
async def list_jobs(request: Request) -> Response:
    """Newest first (sortOrder Descending is the default), filtered by name, status and submit time."""
    state = _count(request, "list")
    try:
        _check_auth(request)
    except BedrockError as exc:
        return _error(exc)
    query = request.query_params
    name, status = query.get("nameContains"), query.get("statusEquals")
    limit = min(max(int(query.get("maxResults") or 1000), 1), 1000)
    summaries = []
    for job in sorted(state.bedrock.jobs.values(), key=lambda j: j.timeline.created, reverse=True):
        summary = job_json(job, await _seen(state, job))
        if name and name not in summary["jobName"]:
            continue
        if status and summary["status"] != status:
            continue
        if query.get("submitTimeAfter") and job.timeline.created < _epoch(query["submitTimeAfter"]):
            continue
        summaries.append(summary)
    return _page(summaries, query.get("nextToken"), limit)


def _page(summaries: list[dict[str, Any]], token: str | None, limit: int) -> Response:
    """`maxResults` a page; `nextToken` (opaque to the client: here the next page's offset) while
    more follow, as ListModelInvocationJobs pages (botocore paginators-1.json: nextToken)."""
    if token is not None and not token.isdigit():
        return _answer({"message": "Invalid nextToken."}, 400, "ValidationException")
    start = int(token or 0)
    body: dict[str, Any] = {"invocationJobSummaries": summaries[start : start + limit]}
    if start + limit < len(summaries):
        body["nextToken"] = str(start + limit)
    return _answer(body)


def _epoch(iso: str) -> float:
    """A query's timestamp (botocore writes ISO 8601 for rest-json query strings)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@router.post("/model-invocation-job/{identifier:path}/stop")
async def stop_job(request: Request, identifier: str) -> Response:
    state = _count(request, "cancel")
    try:
        _check_auth(request)
        job = state.bedrock.get(identifier)
    except BedrockError as exc:
        return _error(exc)
    snap = await _seen(state, job)
    status = job_json(job, snap)["status"]
    if status not in ACTIVE:
        return _error(BedrockError("ConflictException", 400, f"The job cannot be stopped in status {status}."))
    job.timeline.cancel_at = state.now()
    return _answer({})


@runtime_router.post("/model/{model_id:path}/invoke")
async def invoke_model(request: Request, model_id: str) -> Response:
    """One Claude body answered at once: the Message, or a 400 ValidationException as InvokeModel
    answers a malformed body."""
    state = get_state(request)
    state.counters.count_call("bedrock", "complete")
    try:
        _check_auth(request)
        body = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError:
        return _error(validation("Malformed input request: the body is not valid JSON."))
    except BedrockError as exc:
        return _error(exc)
    problem = record_problem(body)
    if problem is not None:
        return _error(validation(problem))
    params = dict(body) | {"model": neutral_name(model_id)}
    return _answer(message_json(params, f"invoke:{model_id}:{len(state.bedrock.jobs)}", (0, 0), tier="standard"))
