"""Gemini batch jobs and generateContent, under `/gemini/{v1|v1beta}` (PROVIDERS.md §3.2–3.4)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from corthex.domain.capabilities import takes_flex
from corthex.domain.requests import ProviderName
from corthex.emulator.asks import gemini_ask, gemini_problem, pick
from corthex.emulator.faults import BatchFaults
from corthex.emulator.gemini_batches import (
    EMPTY_ERROR,
    FAILED_ERROR,
    GeminiBatch,
    InputScan,
    build_inline_output,
    operation_json,
    prepare_inline,
    scan_file,
    write_output_file,
)
from corthex.emulator.gemini_embeddings import is_embedder, not_embedder_message
from corthex.emulator.gemini_files import check_version, err, page_of
from corthex.emulator.gemini_render import GeminiFile, generate_response
from corthex.emulator.guard import get_state, guard
from corthex.emulator.http import json_response, query_int, read_json
from corthex.emulator.ids import LOWER, new_id
from corthex.emulator.lifecycle import Phase, Snapshot, initial, snapshot
from corthex.emulator.single_calls import FLEX, REALTIME
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/gemini")


def _split(value: str) -> tuple[str, str]:
    """`gemini-2.5-flash:batchGenerateContent` -> (`gemini-2.5-flash`, `batchGenerateContent`)."""
    head, _, action = value.rpartition(":")
    return (head, action) if head else (value, "")


@router.post("/{version}/models/{model}:batchGenerateContent", dependencies=[guard("gemini", "create")])
async def batch_generate(request: Request, version: str, model: str) -> Response:
    check_version(version)
    return await _create(request, version, model)


@router.post("/{version}/models/{model}:asyncBatchEmbedContent", dependencies=[guard("gemini", "create")])
async def batch_embed(request: Request, version: str, model: str) -> Response:
    """Batch embeddings (google-genai `batches.create_embeddings`): a file of one text per line."""
    check_version(version)
    if not is_embedder(model):
        raise err(404, not_embedder_message(model, version))
    return await _create(request, version, model, embed=True)


@router.post("/{version}/models/{model}:generateContent", dependencies=[guard("gemini", "realtime")])
async def generate(request: Request, version: str, model: str) -> Response:
    check_version(version)
    return await _generate(request, model)


async def _create(request: Request, version: str, model: str, embed: bool = False) -> Response:
    state = get_state(request)
    body = await read_json(request, "gemini")
    batch_body = pick(body, "batch") or {}
    display_name = pick(batch_body, "displayName")
    state.counters.record_create_body("gemini", display_name=display_name)
    input_config = pick(batch_body, "inputConfig")
    if not isinstance(input_config, dict):
        raise err(400, "* BatchGenerateContentRequest.batch.input_config: input config is required")
    faults = state.faults.take_batch_faults("gemini")
    if embed and not pick(input_config, "fileName"):
        # ours: the API takes inline embedding requests too; we send files only (docs/wire/embeddings.md)
        raise err(400, "The emulator takes batch embeddings as an uploaded file only (inputConfig.file_name).")
    inline, stored, scan = await _load_input(request, state, input_config, faults, model, embed)
    timeline = state.config.timeline(
        state.now(), scan.n, faults, validate=True, finalize=False, provider="gemini", model=model
    )
    timeline.fails = faults.fail or scan.n == 0
    batch = GeminiBatch(
        new_id("", 20, LOWER), f"models/{model}", display_name, timeline, inline=inline, input_file=stored, scan=scan
    )
    batch.embed = embed
    batch.failure = FAILED_ERROR if faults.fail else EMPTY_ERROR if scan.n == 0 else None
    batch.quirks = frozenset(state.config.quirks.get("gemini", ()))
    state.gemini.batches[batch.id] = batch
    first_metadata, first_key = _first_row(batch)
    state.counters.record_batch(
        "gemini",
        f"batches/{batch.id}",
        batch.scan.n,
        metadata=first_metadata,
        display_name=display_name,
        first_custom_id=first_key,
        wire_bytes=stored.size if stored is not None else len(await request.body()),
    )
    return json_response(operation_json(batch, initial(batch.timeline), version))


async def _load_input(
    request: Request, state: EmulatorState, config: dict[str, Any], faults: BatchFaults, model: str, embed: bool
) -> tuple[list[tuple[bytes, bytes | None]] | None, GeminiFile | None, InputScan]:
    """(inline requests, input file, scan) of a create call."""
    file_name = pick(config, "fileName")
    if file_name:
        stored = state.gemini.files.get(str(file_name).removeprefix("files/"))
        if stored is None:
            raise err(400, f"Input file {file_name} was not found.")
        return None, stored, await asyncio.to_thread(scan_file, stored.path, faults, model, embed)
    limit = state.config.gemini_inline_max_bytes
    if len(await request.body()) > limit:
        raise err(400, f"Request payload size exceeds the limit: {limit} bytes.")
    items = pick(pick(config, "requests") or {}, "requests")
    if not isinstance(items, list) or not items:
        raise err(400, "* BatchGenerateContentRequest.batch.input_config.requests: at least one request is required")
    inline, scan = await asyncio.to_thread(prepare_inline, items, faults, model)
    return inline, None, scan


def _first_row(batch: GeminiBatch) -> tuple[Any, Any]:
    """(metadata, key) of the first request: inline jobs carry metadata, file jobs a key."""
    if batch.inline:
        raw = batch.inline[0][1]
        metadata = orjson.loads(raw) if raw is not None else None
        key = metadata.get("key") if isinstance(metadata, dict) else None
        return metadata, key
    return None, batch.scan.first_key


async def _generate(request: Request, model: str) -> Response:
    state = get_state(request)
    body = await read_json(request, "gemini")
    if isinstance(body, dict):
        state.gemini.generated.append(body)
    problem = gemini_problem(body, model)
    if problem is not None:
        raise err(problem.status, problem.message)
    tier = _tier_asked(body, model)
    async with state.single_calls.serving(state.config, "gemini", model, tier, state.now()):
        ask = gemini_ask(model, body)
        data = generate_response(ask, new_id("rt"), state.cache)
    data["usageMetadata"]["serviceTier"] = tier if tier == FLEX else "standard"  # the tier that served the call
    return json_response(data)


def _tier_asked(body: dict[str, Any], model: str) -> str:
    """flex for `serviceTier` (the SDK's spelling) or `service_tier` (the REST example's) `flex`, in
    any case, on a model that takes it; a model without flex is refused 400 (the wording is ours,
    UNVERIFIED); standard, priority or none is realtime."""
    asked = pick(body, "serviceTier")
    if not isinstance(asked, str) or asked.lower() != FLEX:
        return REALTIME
    if not takes_flex(ProviderName.GEMINI, model.removeprefix("models/")):
        raise err(400, f"* GenerateContentRequest.service_tier: flex is not supported for model '{model}'.")
    return FLEX


@router.get("/{version}/batches", dependencies=[guard("gemini", "list")])
async def list_batches(request: Request, version: str) -> Response:
    check_version(version)
    state = get_state(request)
    size = query_int(request, "gemini", "pageSize", 50, 1, 1000)
    batches = list(reversed(state.gemini.batches.values()))
    page, token = page_of(batches, request.query_params.get("pageToken"), size)
    ops = [await _render(state, b, version, with_output=False) for b in page]
    data: dict[str, Any] = {"operations": ops}
    if token:
        data["nextPageToken"] = token
    return json_response(data)


@router.get("/{version}/batches/{batch_id}", dependencies=[guard("gemini", "retrieve")])
async def get_batch(request: Request, version: str, batch_id: str) -> Response:
    check_version(version)
    state = get_state(request)
    return json_response(await _render(state, _batch(state, batch_id), version))


@router.post("/{version}/batches/{batch_action}", dependencies=[guard("gemini", "cancel")])
async def cancel_batch(request: Request, version: str, batch_action: str) -> Response:
    check_version(version)
    batch_id, action = _split(batch_action)
    if action != "cancel":
        raise err(404, f"The emulator does not implement batches/{batch_id}:{action}.")
    state = get_state(request)
    batch = _batch(state, batch_id)
    if not _snap(state, batch).phase.ended and batch.timeline.cancel_at is None:
        batch.timeline.cancel_at = state.now()
    return json_response({})


@router.delete("/{version}/batches/{batch_id}", dependencies=[guard("gemini", "delete")])
async def delete_batch(request: Request, version: str, batch_id: str) -> Response:
    """Deletes the record only; it does not cancel (§3.2)."""
    check_version(version)
    state = get_state(request)
    _batch(state, batch_id)
    del state.gemini.batches[batch_id]
    return json_response({})


def _batch(state: EmulatorState, batch_id: str) -> GeminiBatch:
    batch = state.gemini.batches.get(batch_id.removeprefix("batches/"))
    if batch is None:
        raise err(404, f"Batch batches/{batch_id} not found.")
    return batch


def _snap(state: EmulatorState, batch: GeminiBatch) -> Snapshot:
    return snapshot(batch.timeline, state.now(), state.held(batch.timeline.faults))


async def _render(
    state: EmulatorState, batch: GeminiBatch, version: str, *, with_output: bool = True
) -> dict[str, Any]:
    snap = _snap(state, batch)
    if snap.phase.ended and snap.phase is not Phase.FAILED and not batch.done_output:
        await _finish(state, batch, snap)
    return operation_json(batch, snap, version, with_output=with_output)


async def _finish(state: EmulatorState, batch: GeminiBatch, snap: Snapshot) -> None:
    """Produce the results once, when the job is first seen ended."""
    async with batch.lock:
        if batch.done_output:
            return
        if batch.inline is not None:
            batch.inline_output = await asyncio.to_thread(build_inline_output, batch, snap, state.cache)
        else:
            await _write_file(state, batch, snap)
        batch.done_output = True


async def _write_file(state: EmulatorState, batch: GeminiBatch, snap: Snapshot) -> None:
    file_id = f"batch-{batch.id}"
    path = state.gemini.file_path(file_id)
    await asyncio.to_thread(write_output_file, batch, snap, path, state.cache)
    state.gemini.files[file_id] = GeminiFile(
        file_id,
        None,
        "application/jsonl",
        path.stat().st_size,
        state.now(),
        path,
        "",
        source="GENERATED",
    )
    batch.responses_file = f"files/{file_id}"
