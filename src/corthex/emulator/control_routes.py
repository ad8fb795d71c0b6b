"""The emulator's own control API under `/_emulator` (faults, stats, batches, reset, config)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from corthex.emulator.errors import EmulatorError
from corthex.emulator.faults import Fault
from corthex.emulator.guard import get_state
from corthex.emulator.http import json_response, read_json

router = APIRouter(prefix="/_emulator")


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    body = await read_json(request, "emulator")
    try:
        fault = Fault.from_dict(body)
    except (TypeError, ValueError) as exc:
        raise EmulatorError("emulator", 400, str(exc)) from None
    get_state(request).add_fault(fault)
    return json_response(fault.to_dict())


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    get_state(request).clear_faults()
    return json_response({"cleared": True})


@router.get("/faults")
async def list_faults(request: Request) -> Response:
    return json_response([f.to_dict() for f in get_state(request).faults.active()])


@router.get("/stats")
async def stats(request: Request) -> Response:
    return json_response(get_state(request).stats())


@router.get("/batches")
async def batch_times(request: Request) -> Response:
    """Each batch's creation and end times (wall clock): when a client could have had its results."""
    return json_response(get_state(request).batch_times())


@router.post("/reset")
async def reset(request: Request) -> Response:
    get_state(request).reset()
    return json_response({"reset": True})


@router.get("/config")
async def get_config(request: Request) -> Response:
    return json_response(get_state(request).config.to_dict())


@router.post("/config")
async def set_config(request: Request) -> Response:
    state = get_state(request)
    try:
        state.config.update(await read_json(request, "emulator"))
    except ValueError as exc:
        raise EmulatorError("emulator", 400, str(exc)) from None
    return json_response(state.config.to_dict())
