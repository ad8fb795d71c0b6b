"""Chains: start one (202 as soon as it is routed; it goes on in the background), list, get one
with its steps, each agent's item, cost and saving, and the report."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from corthex.api import views
from corthex.api.schemas import Chain, ChainBody, ChainCanceled, ChainDetail, ChainStarted, ErrorBody
from corthex.api.state import ServerState, server_state
from corthex.domain import events
from corthex.domain.chain import ChainStatus

router = APIRouter(prefix="/chains", tags=["chains"])
State = Annotated[ServerState, Depends(server_state)]

# Marks the task that starts a chain, so that its own `chain.started` event is recognised.
_starter: ContextVar[object | None] = ContextVar("corthex_chain_starter", default=None)


@router.post(
    "",
    status_code=202,
    response_model=ChainStarted,
    responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def start(body: ChainBody, state: State) -> ChainStarted:
    """Start a delegation chain. Answers once the chain is recorded and routed; the steps
    (also a realtime chain's calls) run in the background. Follow it on /ws or GET /chains/{id}."""
    chain_id = await _start_in_background(
        state,
        lambda: state.engine.start_chain(
            body.command,
            broadcast=body.broadcast,
            realtime=body.realtime,
            origin=body.origin,
            deadline=body.deadline,
            deadline_margin=body.deadline_margin,
        ),
    )
    return await _started(state, chain_id)


async def _started(state: ServerState, chain_id: str) -> ChainStarted:
    chain = await state.engine.chain(chain_id)
    return ChainStarted(
        id=chain.id,
        status=chain.status.value,
        step=chain.step.value,
        departments=list(chain.departments),
        route=chain.route_method,
        rerun_of=chain.rerun_of,
    )


async def _start_in_background(state: ServerState, starting: Callable[[], Awaitable[object]]) -> str:
    marker = object()
    announced: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.ChainStarted) and _starter.get() is marker and not announced.done():
            announced.set_result(event.chain_id)

    async def run() -> None:
        _starter.set(marker)
        try:
            await starting()
        except Exception as exc:
            if not announced.done():  # refused before it started: the caller gets the error
                announced.set_exception(exc)
                return
            raise
        if not announced.done():
            announced.set_exception(RuntimeError("the chain did not announce its start"))

    unsubscribe = state.engine.bus.subscribe(on_event, types=(events.ChainStarted,))
    try:
        state.spawn(run(), name="chain-start")
        return await announced
    finally:
        unsubscribe()


@router.get("", response_model=list[Chain])
async def list_chains(
    state: State, limit: Annotated[int, Query(ge=1, le=500)] = 50, status: ChainStatus | None = None
) -> list[dict[str, Any]]:
    rows = await state.engine.list_chains(limit=limit, status=status)
    return await views.chain_summaries(state, rows)


@router.get("/{chain_id}", response_model=ChainDetail, responses={404: {"model": ErrorBody}})
async def get_chain(chain_id: str, state: State) -> dict[str, Any]:
    return await views.chain_detail(state, await state.engine.chain(chain_id))


@router.post(
    "/{chain_id}/cancel",
    response_model=ChainCanceled,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody, "description": "The chain has ended already"}},
)
async def cancel_chain(chain_id: str, state: State) -> dict[str, Any]:
    """Stop a running chain: no step follows, its open jobs and their batches are canceled, and the
    report of what it has is delivered, marked canceled. `stopped` says what was stopped. A chain
    that has ended already is left as it is (409)."""
    stopped = await state.engine.cancel_chain(chain_id)
    detail = await views.chain_detail(state, stopped.chain)
    return {**detail, "stopped": stopped.to_dict()["stopped"]}


@router.post("/{chain_id}/rerun", status_code=202, response_model=ChainStarted, responses={404: {"model": ErrorBody}})
async def rerun_chain(chain_id: str, state: State) -> ChainStarted:
    """Run a chain's command again as a new chain (same command, org and mode), linked to the
    first by `rerun_of`. Answers once the new chain is routed; it goes on in the background."""
    new_id = await _start_in_background(state, lambda: state.engine.rerun_chain(chain_id, origin="api"))
    return await _started(state, new_id)
