"""Store rows → API answers: chains with their steps and agents, costs per day, the snapshot a
WebSocket client gets when it has missed too much. Read-only; routers stay thin."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from corthex.api.state import ServerState
from corthex.domain.budget import day_start
from corthex.domain.chain import ChainStatus, Step, who
from corthex.domain.chain_deadlines import ChainForecast
from corthex.domain.jobs import RequestState
from corthex.domain.org import Org
from corthex.domain.step_states import step_states
from corthex.engine.engine import ChainRow, StepRow

RECENT = 10
PROMPT_CHARS = 20_000  #: an agent card shows this much of what was sent (a synthesis prompt can be long)


async def chain_summaries(state: ServerState, chains: list[ChainRow]) -> list[dict[str, Any]]:
    """`chain_summary` of many chains, their costs read in one query."""
    costs = await state.engine.chain_costs([c.id for c in chains])
    return [_summary(chain, costs.get(chain.id, (0.0, 0.0))) for chain in chains]


async def chain_summary(state: ServerState, chain: ChainRow) -> dict[str, Any]:
    return _summary(chain, await state.engine.chain_cost(chain.id))


def _summary(chain: ChainRow, costs: tuple[float, float]) -> dict[str, Any]:
    cost, realtime_cost = costs
    data = chain.to_dict()
    data.pop("report", None)
    end = chain.completed_at or time.time()
    data.update(
        elapsed_s=round(end - chain.created_at, 3),
        cost_usd=cost,
        realtime_cost_usd=realtime_cost,
        saving_usd=realtime_cost - cost,
    )
    return data


async def chain_detail(state: ServerState, chain: ChainRow) -> dict[str, Any]:
    data = await chain_summary(state, chain)
    data["report"] = chain.report
    data["steps"] = [await _step(state, s) for s in await state.engine.chain_steps(chain.id)]
    recorded = {Step(s["step"]): s["status"] for s in data["steps"]}
    ladder = step_states(chain.step, chain.status, chain.broadcast, recorded)
    data["ladder"] = [{"step": step.value, "state": shown.value} for step, shown in ladder]
    _with_forecast(data, await state.engine.chain_forecast(chain.id))
    return data


def _with_forecast(data: dict[str, Any], forecast: ChainForecast) -> None:
    """The predicted finish of the chain, and of each step (its transport and its job's deadline too)."""
    data["predicted_finish_at"] = forecast.predicted_finish_at
    for entry in (*data["steps"], *data["ladder"]):
        step = forecast.step(entry["step"])
        if step is not None:
            entry["predicted_finish_at"] = step.predicted_finish_at
        elif entry["step"] == Step.DELIVER.value:  # the report goes out when the last step ends
            entry["predicted_finish_at"] = forecast.predicted_finish_at
    for entry in data["steps"]:
        step = forecast.step(entry["step"])
        if step is not None:
            entry.update(transport=step.transport, deadline=step.deadline)


async def _step(state: ServerState, step: StepRow) -> dict[str, Any]:
    out: dict[str, Any] = {"step": step.step.value, "job_id": step.job_id, "started_at": step.created_at}
    if step.job_id is None:
        return {**out, "status": "skipped", "items": []}
    done = await state.engine.job_done(step.job_id)
    results: dict[str, dict[str, Any]] = {}
    async for chunk in state.engine.result_rows(step.job_id):
        results.update((r["custom_id"], r) for r in chunk)
    items = [
        _item(state.org, request, results.get(request["custom_id"]))
        for request in await state.engine.job_requests(step.job_id)
    ]
    ended = [i["finished_at"] for i in items if i.get("finished_at") is not None]
    finished = max(ended) if done and ended else None
    return {**out, "status": "done" if done else "running", "finished_at": finished, "items": items}


def _item(org: Org, request: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    agent, name, department = who(org, request["custom_id"])
    item = {
        "custom_id": request["custom_id"],
        "agent": agent,
        "agent_name": name,
        "department": department,
        "model": request["model"],
        "provider": request["provider"],
        "status": "working" if request["state"] != RequestState.DONE.value else "done",
        **_sent(request.get("body")),
    }
    if result is not None:
        error = f"{result['error_type']}: {result['error_message']}" if result["error_type"] else None
        item.update(
            status=result["status"],
            content=result["content"],
            cost_usd=result["cost_usd"],
            error=error,
            finished_at=result["created_at"],
        )
    return item


def _sent(body: str | None) -> dict[str, Any]:
    """The system text and the last user message that went out (cut at PROMPT_CHARS each)."""
    if not body:
        return {}
    data = orjson.loads(body)
    users = [m.get("content") for m in data.get("messages", []) if m.get("role") == "user"]
    prompt = users[-1] if users and isinstance(users[-1], str) else ""
    system = data.get("system") if isinstance(data.get("system"), str) else None
    return {"prompt": prompt[:PROMPT_CHARS], "system": system[:PROMPT_CHARS] if system else None}


async def costs(state: ServerState, days: int) -> dict[str, Any]:
    """Today's cost against the budget, and cost per day (oldest first) in the budget's time zone."""
    tz, now = state.settings.timezone, time.time()
    starts = [day_start(now, tz)]
    while len(starts) < days:
        starts.insert(0, day_start(starts[0] - 1, tz))
    ends = [*starts[1:], now + 1]
    out: list[dict[str, Any]] = []
    for start, end in zip(starts, ends, strict=True):
        cost, realtime_cost = await state.engine.cost_between(start, end)
        day = datetime.fromtimestamp(start, ZoneInfo(tz)).date().isoformat()
        out.append({"day": day, "cost_usd": cost, "realtime_cost_usd": realtime_cost})
    budget = await state.engine.budget_status()  # what a submission is checked against too
    shares = await state.engine.cost_breakdown(starts[0], now + 1)
    return {
        "timezone": budget.timezone,
        "today_usd": budget.spent,
        "budget_usd": budget.budget,
        "held_usd": budget.held,
        "remaining_usd": budget.left,
        "days": out,
        "breakdown": {
            "by_provider": shares.by_provider,
            "by_model": shares.by_model,
            "by_department": shares.by_department,
        },
    }


async def snapshot(state: ServerState) -> dict[str, Any]:
    """The current state, for a client that cannot be caught up event by event."""
    engine = state.engine
    running = await engine.list_chains(status=ChainStatus.RUNNING, limit=RECENT)
    recent = await engine.list_chains(limit=RECENT)
    queue = await engine.queue_stats()
    budget = await engine.budget_status()
    return {
        "epoch": state.hub.epoch,
        "running_chains": [await chain_detail(state, c) for c in running],
        "recent_chains": await chain_summaries(state, recent),
        "jobs": [j.to_dict() for j in await engine.jobs(limit=RECENT)],
        "queue": {"requests": queue.requests, "oldest_at": queue.oldest_at, "jobs": queue.jobs},
        "costs": {"today_usd": budget.spent, "budget_usd": budget.budget, "remaining_usd": budget.left},
    }
