"""Provider batches: list (optionally one job's), get one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from corthex.api.schemas import Batch, ErrorBody
from corthex.api.state import ServerState, server_state

router = APIRouter(prefix="/batches", tags=["batches"])
State = Annotated[ServerState, Depends(server_state)]


@router.get("", response_model=list[Batch])
async def list_batches(
    state: State, job_id: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """Newest first; with `job_id`, only the batches that carried that job's requests."""
    rows = await state.engine.batches(job_id, limit=limit)
    return [b.to_dict() for b in rows]


@router.get("/{batch_id}", response_model=Batch, responses={404: {"model": ErrorBody}})
async def get_batch(batch_id: str, state: State) -> dict[str, Any]:
    return (await state.engine.batch(batch_id)).to_dict()
