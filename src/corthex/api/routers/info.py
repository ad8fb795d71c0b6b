"""The org, costs against the budget, and the Markdown archive of delivered reports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse

from corthex.api import views
from corthex.api.schemas import ArchiveEntry, Costs, ErrorBody, Org
from corthex.api.state import ServerState, server_state
from corthex.domain.org import Agent

router = APIRouter(tags=["org, costs, archive"])
State = Annotated[ServerState, Depends(server_state)]
ARCHIVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.md$")  # what archive.safe_name produces
FRONT_MATTER_BYTES = 8192


@router.get("/org", response_model=Org)
async def org(state: State) -> dict[str, Any]:
    """Departments, their managers and specialists with their models (prompts left out)."""
    o = state.org

    def agent(a: Agent) -> dict[str, str]:
        return {"id": a.id, "name": a.name, "model": a.model}

    return {
        "chief_of_staff": o.chief_of_staff,
        "classifier_model": o.classifier_model,
        "broadcast_departments": list(o.broadcast_departments),
        "broadcast_keywords": list(o.broadcast_keywords),
        "departments": [
            {
                "id": d.id,
                "name": d.name,
                "division": d.division,
                "remit": d.describe(),
                "manager": agent(d.manager),
                "specialists": [agent(a) for a in d.specialists],
                "keywords": [k.keyword for k in d.keywords],
            }
            for d in o.departments
        ],
    }


@router.get("/costs", response_model=Costs)
async def costs(state: State, days: Annotated[int, Query(ge=1, le=366)] = 14) -> dict[str, Any]:
    """Today's cost against the daily budget, and the cost of each of the last `days` days,
    with days in the configured time zone (CORTHEX_TIMEZONE)."""
    return await views.costs(state, days)


@router.get("/archive", response_model=list[ArchiveEntry])
async def archive(state: State, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Delivered reports in CORTHEX_ARCHIVE_DIR, newest first."""
    root = state.settings.archive_dir
    if not root.is_dir():
        return []
    files = sorted(
        (p for p in root.iterdir() if p.is_file() and ARCHIVE_NAME.match(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return [_entry(p) for p in files[:limit]]


@router.get(
    "/archive/{name}",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}}}, 404: {"model": ErrorBody}},
)
async def archive_file(name: str, state: State) -> PlainTextResponse:
    """One archived report (Markdown with YAML front matter). Names cannot leave the archive."""
    path = _inside(state.settings.archive_dir, name)
    return PlainTextResponse(path.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8")


def _inside(root: Path, name: str) -> Path:
    if not ARCHIVE_NAME.match(name):
        raise HTTPException(404, f"no archived report {name!r}")
    base = root.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        raise HTTPException(404, f"no archived report {name!r}")
    return path


def _entry(path: Path) -> dict[str, Any]:
    stat = path.stat()
    entry: dict[str, Any] = {"name": path.name, "size": stat.st_size, "modified_at": stat.st_mtime}
    with path.open("rb") as fh:
        head = fh.read(FRONT_MATTER_BYTES).decode("utf-8", "ignore")
    if head.startswith("---\n") and "\n---" in head[4:]:
        try:
            front = yaml.safe_load(head[4 : head.index("\n---", 4)]) or {}
        except yaml.YAMLError:
            front = {}
        if isinstance(front, dict):
            entry.update({k: str(front[k]) for k in ("chain_id", "department", "command") if front.get(k)})
    return entry
