"""Anthropic Message Batches + Messages, served under `/anthropic` (PROVIDERS.md §2)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from corthex.emulator.anthropic_batches import (
    AnthropicBatch,
    Prepared,
    batch_json,
    check_requests,
    message_json,
    prepare,
    result_chunks,
    use_cache,
)
from corthex.emulator.anthropic_cache import cached_prefix
from corthex.emulator.asks import anthropic_ask, anthropic_problem
from corthex.emulator.errors import EmulatorError
from corthex.emulator.guard import get_state, guard
from corthex.emulator.http import json_response, public_root, query_int, read_json
from corthex.emulator.ids import new_id
from corthex.emulator.lifecycle import Snapshot, initial, snapshot
from corthex.emulator.prompt_cache import TTL_SECONDS
from corthex.emulator.single_calls import REALTIME
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/anthropic/v1")
BATCHES = "/messages/batches"


def _err(status: int, message: str) -> EmulatorError:
    return EmulatorError("anthropic", status, message)


@router.post(BATCHES, dependencies=[guard("anthropic", "create")])
async def create_batch(request: Request) -> Response:
    state = get_state(request)
    body = await read_json(request, "anthropic", max_bytes=state.config.anthropic_body_max_bytes)
    requests = body.get("requests") if isinstance(body, dict) else None
    first_custom_id = _first_custom_id(requests)
    state.counters.record_create_body("anthropic", first_custom_id=first_custom_id)
    checked = await asyncio.to_thread(check_requests, requests)
    del body, requests  # only the compact form below is kept
    faults = state.faults.take_batch_faults("anthropic")
    prepared = await asyncio.to_thread(prepare, checked, faults)
    del checked
    model = _model_of(prepared)
    n = len(prepared.params)
    timeline = state.config.timeline(
        state.now(), n, faults, validate=False, finalize=False, provider="anthropic", model=model
    )
    use_cache(prepared, state.cache, timeline, state.config.anthropic_cache_concurrency)
    batch = AnthropicBatch(new_id("msgbatch_"), timeline, prepared)
    state.anthropic.batches[batch.id] = batch
    received = len(await request.body())  # starlette keeps the body read above
    state.counters.record_batch("anthropic", batch.id, batch.n, first_custom_id=first_custom_id, wire_bytes=received)
    return json_response(_json(request, state, batch, initial(timeline)))


def _first_custom_id(requests: Any) -> Any:
    first = requests[0] if isinstance(requests, list) and requests else None
    return first.get("custom_id") if isinstance(first, dict) else None


@router.get(BATCHES, dependencies=[guard("anthropic", "list")])
async def list_batches(request: Request) -> Response:
    state = get_state(request)
    limit = query_int(request, "anthropic", "limit", 20, 1, 1000)
    batches = list(reversed(state.anthropic.batches.values()))
    page, has_more = _page(batches, request.query_params, limit)
    data = [_json(request, state, b, _snap(state, b)) for b in page]
    return json_response(
        {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


def _page(batches: list[AnthropicBatch], query: Any, limit: int) -> tuple[list[Any], bool]:
    ids = [b.id for b in batches]
    before, after = query.get("before_id"), query.get("after_id")
    if before:
        end = ids.index(before) if before in ids else 0
        start = max(0, end - limit)
        return batches[start:end], start > 0
    start = ids.index(after) + 1 if after and after in ids else (len(ids) if after else 0)
    return batches[start : start + limit], start + limit < len(ids)


@router.get(BATCHES + "/{batch_id}", dependencies=[guard("anthropic", "retrieve")])
async def retrieve_batch(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    batch = _batch(state, batch_id)
    return json_response(_json(request, state, batch, _snap(state, batch)))


@router.post(BATCHES + "/{batch_id}/cancel", dependencies=[guard("anthropic", "cancel")])
async def cancel_batch(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    batch = _batch(state, batch_id)
    if not _snap(state, batch).phase.ended and batch.timeline.cancel_at is None:
        batch.timeline.cancel_at = state.now()
    return json_response(_json(request, state, batch, _snap(state, batch)))


@router.delete(BATCHES + "/{batch_id}", dependencies=[guard("anthropic", "delete")])
async def delete_batch(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    batch = _batch(state, batch_id)
    if not _snap(state, batch).phase.ended:
        raise _err(
            400,
            f"Message batch {batch_id} cannot be deleted while it is still "
            "processing. Cancel it first and wait for it to end.",
        )
    del state.anthropic.batches[batch_id]
    return json_response({"id": batch_id, "type": "message_batch_deleted"})


@router.get(BATCHES + "/{batch_id}/results", dependencies=[guard("anthropic", "results")])
async def batch_results(request: Request, batch_id: str) -> Response:
    state = get_state(request)
    batch = _batch(state, batch_id)
    snap = _snap(state, batch)
    if not snap.phase.ended:
        raise _err(404, f"Results for message batch {batch_id} are not available yet: it has not ended.")
    chunks = result_chunks(batch, snap, state.config.shuffle_results)
    return StreamingResponse(chunks, media_type="application/binary")


@router.post("/messages", dependencies=[guard("anthropic", "realtime")])
async def create_message(request: Request) -> Response:
    state = get_state(request)
    params = await read_json(request, "anthropic")
    state.anthropic.messages.append(params)
    problem = anthropic_problem(params)
    if problem is not None:
        raise _err(problem.status, problem.message)
    ttl = TTL_SECONDS.get(cached_prefix(params)[2], TTL_SECONDS["5m"])
    async with state.single_calls.serving(state.config, "anthropic", str(params.get("model")), REALTIME, state.now()):
        cache = state.cache.lookup("anthropic", anthropic_ask(params), now=state.now(), ttl=ttl)
        return json_response(message_json(params, new_id("rt"), cache, tier="standard"))


def _model_of(prepared: Prepared) -> str | None:
    """The model of a batch's first request (a batch may mix models: its turnaround is the first's)."""
    if not prepared.params:
        return None
    model = orjson.loads(prepared.params[0]).get("model")
    return model if isinstance(model, str) else None


def _batch(state: EmulatorState, batch_id: str) -> AnthropicBatch:
    batch = state.anthropic.batches.get(batch_id)
    if batch is None:
        raise _err(404, f"Message batch {batch_id} not found.")
    return batch


def _snap(state: EmulatorState, batch: AnthropicBatch) -> Snapshot:
    return snapshot(batch.timeline, state.now(), state.held(batch.timeline.faults))


def _json(request: Request, state: EmulatorState, batch: AnthropicBatch, snap: Snapshot) -> Any:
    root = public_root(request, state.config.public_url)
    url = f"{root}/anthropic/v1/messages/batches/{batch.id}/results"
    return batch_json(batch, snap, url)
