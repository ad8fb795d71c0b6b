"""OpenAI Files + Batches + chat completions, served under `/openai/v1` (PROVIDERS.md §1)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from corthex.domain.capabilities import takes_flex
from corthex.domain.requests import ProviderName
from corthex.emulator.answers import answer
from corthex.emulator.errors import EmulatorError
from corthex.emulator.guard import get_state, guard, record
from corthex.emulator.http import json_response, query_int, read_json
from corthex.emulator.ids import new_id
from corthex.emulator.lifecycle import Phase, Snapshot, initial, snapshot
from corthex.emulator.openai_asks import openai_full_ask, openai_row_problem
from corthex.emulator.openai_batches import (
    STATUS,
    OpenAIBatch,
    OpenAIFile,
    batch_json,
    scan_input,
    token_limit_error,
    v1_path,
    write_results,
)
from corthex.emulator.openai_embeddings import EMBEDDINGS, embeddings_body
from corthex.emulator.openai_render import OPENAI_CACHE_MIN_TOKENS, cached_tokens, response_body
from corthex.emulator.single_calls import FLEX, REALTIME
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/openai/v1")

ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BAD_BATCH_FILE = "Invalid file format for Batch API. Must be .jsonl"
FILE_TOO_LARGE = "File is too large."
FILE_DEFAULT_EXPIRY = 30 * 86_400


def _err(status: int, message: str, param: str | None = None, code: str | None = None) -> EmulatorError:
    return EmulatorError("openai", status, message, param=param, code=code)


# --- files ---------------------------------------------------------------------------------


@router.post("/files", dependencies=[guard("openai", "upload")])
async def create_file(request: Request) -> Response:
    state = get_state(request)
    async with request.form(max_files=1, max_fields=20) as form:
        upload = form.get("file")
        filename = upload.filename if isinstance(upload, UploadFile) else None
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        record(request, multipart={"fields": list(form.keys()), "values": values, "filename": filename})
        purpose = str(form.get("purpose") or "")
        _check_upload(purpose, upload)
        assert isinstance(upload, UploadFile) and filename is not None
        expires_at = _upload_expiry(form, state.now())
        file_id = new_id("file-", 22)
        path = state.openai.file_path(file_id)
        size = await asyncio.to_thread(_save, upload, path)
    if purpose == "batch" and size > state.config.openai_file_max_bytes:
        await asyncio.to_thread(path.unlink, True)
        raise _err(400, FILE_TOO_LARGE)  # at upload, as curator#111 saw it
    stored = OpenAIFile(file_id, filename, purpose, size, int(state.now()), path, expires_at)
    state.openai.files[file_id] = stored
    if purpose == "batch":
        state.openai.batch_inputs[file_id] = path
    state.counters.record_upload("openai")
    return json_response(stored.to_json())


def _check_upload(purpose: str, upload: Any) -> None:
    if purpose not in PURPOSES:
        raise _err(400, f"Invalid value for 'purpose': '{purpose}'.", "purpose", "invalid_value")
    if not isinstance(upload, UploadFile):
        raise _err(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter")
    if purpose == "batch" and not batch_file_name_ok(upload.filename or ""):
        raise _err(400, BAD_BATCH_FILE)


def batch_file_name_ok(filename: str) -> bool:
    """A batch input's name ends in `.jsonl`, or has no extension at all: the real API refuses
    `notes.txt` (litellm#37527) but takes the `upload` that the SDK names bytes (curator uploads
    that way in production). docs/wire/upload-names.md"""
    suffix = PurePosixPath(filename).suffix
    return suffix in ("", ".jsonl")


def _upload_expiry(form: Any, now: float) -> int | None:
    anchor, seconds = form.get("expires_after[anchor]"), form.get("expires_after[seconds]")
    purpose = form.get("purpose")
    if anchor is None and seconds is None:
        return int(now) + FILE_DEFAULT_EXPIRY if purpose == "batch" else None
    if anchor != "created_at":
        raise _err(400, "Invalid 'expires_after[anchor]': must be 'created_at'.", "expires_after[anchor]")
    try:
        value = int(str(seconds))
    except ValueError:
        value = -1
    if not 3600 <= value <= 2_592_000:
        raise _err(400, "Invalid 'expires_after[seconds]': must be between 3600 and 2592000.", "expires_after[seconds]")
    return int(now) + value


def _save(upload: UploadFile, path: Path) -> int:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
        return out.tell()


@router.get("/files", dependencies=[guard("openai", "list")])
async def list_files(request: Request) -> Response:
    state = get_state(request)
    limit = query_int(request, "openai", "limit", 10_000, 1, 10_000)
    order = request.query_params.get("order", "desc")
    purpose = request.query_params.get("purpose")
    files = [f for f in state.openai.files.values() if purpose in (None, "", f.purpose)]
    if order == "desc":
        files.reverse()
    page, has_more = _page_after(files, request.query_params.get("after"), limit)
    return json_response(_list([f.to_json() for f in page], has_more))


@router.get("/files/{file_id}", dependencies=[guard("openai", "retrieve")])
async def retrieve_file(request: Request, file_id: str) -> Response:
    return json_response(_file(request, file_id).to_json())


@router.get("/files/{file_id}/content", dependencies=[guard("openai", "results")])
async def file_content(request: Request, file_id: str) -> Response:
    stored = _file(request, file_id)
    return FileResponse(stored.path, media_type="application/octet-stream")


@router.delete("/files/{file_id}", dependencies=[guard("openai", "delete")])
async def delete_file(request: Request, file_id: str) -> Response:
    state = get_state(request)
    stored = _file(request, file_id)
    del state.openai.files[file_id]
    if file_id not in state.openai.batch_inputs:  # batch inputs stay for contract tests
        await asyncio.to_thread(stored.path.unlink, True)
    return json_response({"id": file_id, "object": "file", "deleted": True})


def _file(request: Request, file_id: str) -> OpenAIFile:
    stored = get_state(request).openai.files.get(file_id)
    if stored is None:
        raise _err(404, f"No such File object: {file_id}", "id")
    return stored


# --- batches -------------------------------------------------------------------------------


@router.post("/batches", dependencies=[guard("openai", "create")])
async def create_batch(request: Request) -> Response:
    state = get_state(request)
    body = await read_json(request, "openai")
    record(request, json=body)
    azure = state.config.openai_flavor == "azure"
    if azure and isinstance(body, dict):
        body["endpoint"] = v1_path(body.get("endpoint"))
    state.counters.record_create_body("openai", metadata=body.get("metadata") if isinstance(body, dict) else None)
    source = _check_create(state, body)
    faults = state.faults.take_batch_faults("openai")
    endpoint = body["endpoint"]
    scan = await asyncio.to_thread(scan_input, source.path, endpoint, faults, state.config.openai_max_tasks, azure)
    if faults.fail and not scan.errors:
        scan.errors.append(token_limit_error(scan.model))
    timeline = state.config.timeline(
        state.now(), scan.n, faults, validate=True, finalize=True, provider="openai", model=scan.model
    )
    timeline.fails = bool(scan.errors)
    batch = OpenAIBatch(
        id=new_id("batch_"),
        endpoint=endpoint,
        input_file_id=source.id,
        input_path=source.path,
        metadata=body.get("metadata"),
        timeline=timeline,
        scan=scan,
        output_expires_seconds=(body.get("output_expires_after") or {}).get("seconds"),
        failing=scan.failing,
    )
    state.openai.batches[batch.id] = batch
    state.counters.record_batch(
        "openai",
        batch.id,
        scan.n,
        metadata=batch.metadata,
        first_custom_id=scan.first_custom_id,
        wire_bytes=source.bytes,
    )
    return json_response(batch_json(batch, initial(timeline)))


def _check_create(state: EmulatorState, body: Any) -> OpenAIFile:
    if not isinstance(body, dict):
        raise _err(400, "The request body must be a JSON object.")
    windows = state.config.openai_completion_windows
    if body.get("completion_window") not in windows:
        supported = ", ".join(f"'{w}'" for w in windows)
        raise _err(
            400,
            f"Invalid value for 'completion_window': only {supported} is supported.",
            "completion_window",
            "invalid_value",
        )
    if body.get("endpoint") not in ENDPOINTS:
        raise _err(400, f"Invalid value for 'endpoint': {body.get('endpoint')!r}.", "endpoint", "invalid_value")
    _check_metadata(body.get("metadata"))
    _check_output_expiry(body.get("output_expires_after"))
    file_id = body.get("input_file_id")
    source = state.openai.files.get(file_id) if isinstance(file_id, str) else None
    if source is None:
        raise _err(400, f"No such File object: {file_id}", "input_file_id")
    if source.purpose != "batch":
        raise _err(
            400,
            f"File {file_id} has purpose '{source.purpose}'; batch input files must be uploaded with purpose 'batch'.",
            "input_file_id",
        )
    return source


def _check_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict) or len(metadata) > 16:
        raise _err(400, "Invalid 'metadata': at most 16 key-value pairs.", "metadata")
    for key, value in metadata.items():
        if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
            raise _err(
                400,
                f"Invalid 'metadata' entry {key!r}: keys are at most 64 characters "
                "and values strings of at most 512 characters.",
                "metadata",
            )


def _check_output_expiry(value: Any) -> None:
    if value is None:
        return
    ok = (
        isinstance(value, dict)
        and value.get("anchor") == "created_at"
        and isinstance(value.get("seconds"), int)
        and 3600 <= value["seconds"] <= 2_592_000
    )
    if not ok:
        raise _err(400, "Invalid 'output_expires_after'.", "output_expires_after")


@router.get("/batches", dependencies=[guard("openai", "list")])
async def list_batches(request: Request) -> Response:
    state = get_state(request)
    limit = query_int(request, "openai", "limit", 20, 1, 100)
    batches = list(reversed(state.openai.batches.values()))
    page, has_more = _page_after(batches, request.query_params.get("after"), limit)
    data = [await _render(state, batch) for batch in page]
    return json_response(_list(data, has_more))


@router.get("/batches/{batch_id}", dependencies=[guard("openai", "retrieve")])
async def retrieve_batch(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    return json_response(await _render(state, _batch(state, batch_id)))


@router.post("/batches/{batch_id}/cancel", dependencies=[guard("openai", "cancel")])
async def cancel_batch(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    batch = _batch(state, batch_id)
    snap = _snap(state, batch)
    if snap.phase in (Phase.COMPLETED, Phase.FAILED, Phase.EXPIRED):
        raise _err(400, f"Cannot cancel a batch with status '{STATUS[snap.phase]}'.")
    if batch.timeline.cancel_at is None:
        batch.timeline.cancel_at = state.now()
    return json_response(await _render(state, batch))


def _batch(state: EmulatorState, batch_id: str) -> OpenAIBatch:
    batch = state.openai.batches.get(batch_id)
    if batch is None:
        raise _err(404, f"No batch found with id '{batch_id}'.", "batch_id")
    return batch


def _snap(state: EmulatorState, batch: OpenAIBatch) -> Snapshot:
    return snapshot(batch.timeline, state.now(), state.held(batch.timeline.faults))


async def _render(state: EmulatorState, batch: OpenAIBatch) -> dict[str, Any]:
    snap = _snap(state, batch)
    if snap.phase in (Phase.COMPLETED, Phase.CANCELLED, Phase.EXPIRED) and not batch.written:
        await _write(state, batch, snap)
    return batch_json(batch, snap)


async def _write(state: EmulatorState, batch: OpenAIBatch, snap: Snapshot) -> None:
    """Write the result files once, when the batch is first seen ended."""
    async with batch.lock:
        if batch.written:
            return
        if not batch.scan.errors:
            await _write_files(state, batch, snap)
        batch.written = True


async def _write_files(state: EmulatorState, batch: OpenAIBatch, snap: Snapshot) -> None:
    out_id, err_id = new_id("file-", 22), new_id("file-", 22)
    out_path, err_path = state.openai.file_path(out_id), state.openai.file_path(err_id)
    azure = state.config.openai_flavor == "azure"
    written = await asyncio.to_thread(
        write_results, batch, snap, out_path, err_path, state.config.shuffle_results, state.cache, azure
    )
    batch.usage = written.usage
    now = int(state.now())
    expires = now + batch.output_expires_seconds if batch.output_expires_seconds else None
    for file_id, path, rows, kind in (
        (out_id, out_path, written.out_rows, "output"),
        (err_id, err_path, written.err_rows, "error"),
    ):
        if rows == 0 and not (azure and kind == "error"):  # Azure keeps a 0-byte error file
            await asyncio.to_thread(path.unlink, True)
            continue
        size = path.stat().st_size
        name = f"batch_{batch.id}_{kind}.jsonl"
        state.openai.files[file_id] = OpenAIFile(file_id, name, "batch_output", size, now, path, expires)
        if kind == "output":
            batch.output_file_id = file_id
        else:
            batch.error_file_id = file_id


def _page_after(items: list[Any], after: str | None, limit: int) -> tuple[list[Any], bool]:
    start = 0
    if after:
        ids = [item.id for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    page = items[start : start + limit]
    return page, start + limit < len(items)


def _list(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


# --- realtime ------------------------------------------------------------------------------


@router.post("/chat/completions", dependencies=[guard("openai", "realtime")])
async def chat_completions(request: Request) -> Response:
    return await _realtime(request, "/v1/chat/completions")


@router.post("/responses", dependencies=[guard("openai", "realtime")])
async def responses(request: Request) -> Response:
    return await _realtime(request, "/v1/responses")


@router.post("/embeddings", dependencies=[guard("openai", "realtime")])
async def embeddings(request: Request) -> Response:
    body = await read_json(request, "openai")
    record(request, json=body)
    problem = openai_row_problem(EMBEDDINGS, body)
    if problem is not None:
        raise EmulatorError("openai", problem.status, problem.message, param=problem.param, code=problem.code)
    return json_response(embeddings_body(body))


async def _realtime(request: Request, url: str) -> Response:
    state = get_state(request)
    body = await read_json(request, "openai")
    record(request, json=body)
    if isinstance(body, dict) and body.get("stream"):
        raise _err(400, "The emulator does not stream; send stream=false.", "stream")
    problem = openai_row_problem(url, body)
    if problem is not None:
        raise EmulatorError("openai", problem.status, problem.message, param=problem.param, code=problem.code)
    model, tier = str(body.get("model")), _tier_asked(body)
    async with state.single_calls.serving(state.config, "openai", model, tier, state.now()):
        ask = openai_full_ask(url, body)
        ans = answer(ask)
        _, hit = state.cache.lookup("openai", ask, OPENAI_CACHE_MIN_TOKENS)
        seed = new_id("rt")
        data = response_body(url, ask, ans, seed, int(state.now()), cached_tokens(hit))
    data["service_tier"] = "flex" if tier == FLEX else "default"  # the tier that served the call
    return json_response(data)


def _tier_asked(body: dict[str, Any]) -> str:
    """flex for `service_tier: "flex"` on a model that takes it; a model without flex is refused
    (400 naming `service_tier`: the wording is ours, UNVERIFIED); any other tier is realtime."""
    if body.get("service_tier") != "flex":
        return REALTIME
    model = str(body.get("model"))
    if not takes_flex(ProviderName.OPENAI, model):
        raise _err(400, f"Flex processing is not available for model '{model}'.", "service_tier", "unsupported_value")
    return FLEX
