"""Terminal views of chains: live steps while one runs, the list, and one chain in detail."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from corthex.domain.chain_deadlines import ChainForecast
from corthex.domain.describe import describe
from corthex.domain.events import Event
from corthex.engine.engine import ChainRow, Engine
from corthex.errors import JobFinished

Op = Callable[[Engine], Awaitable[Any]]


def run_chain(
    console: Console,
    command: str,
    *,
    broadcast: bool,
    realtime: bool,
    wait: bool,
    deadline: str | None = None,
    deadline_margin: str | None = None,
) -> Op:
    async def go(engine: Engine) -> None:
        started = time.monotonic()
        engine.bus.subscribe(lambda event: _show_event(console, event, started))
        chain = await engine.start_chain(
            command,
            broadcast=broadcast,
            realtime=realtime,
            origin="cli",
            deadline=deadline,
            deadline_margin=deadline_margin,
        )
        if not wait:
            await engine.step()
            console.print(f"chain {chain.id} started; follow it with: corthex chain show {chain.id}", highlight=False)
            return
        await _print_report(console, engine, await engine.wait_chain(chain.id))

    return go


def _show_event(console: Console, event: Event, started: float) -> None:
    line = describe(event)
    if line:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {escape(line)}", highlight=False)


async def _print_report(console: Console, engine: Engine, chain: ChainRow) -> None:
    console.rule(f"report of {chain.id}")
    console.print(Markdown(chain.report or "(no report)"))
    cost, realtime_cost = await engine.chain_cost(chain.id)
    saving = realtime_cost - cost
    console.rule()
    console.print(
        f"cost ${cost:.6f} — realtime price ${realtime_cost:.6f} — saving ${saving:.6f}"
        + (f" ({saving / realtime_cost:.0%})" if realtime_cost else ""),
        highlight=False,
    )


def cancel_chain(console: Console, chain_id: str) -> Op:
    async def go(engine: Engine) -> None:
        try:
            stopped = await engine.cancel_chain(chain_id)
        except JobFinished as exc:  # not a failure: the chain has ended as it is
            console.print(str(exc), highlight=False)
            return
        console.print(stopped.message(), highlight=False)
        console.print(f"its report (what it had): corthex chain show {chain_id}", highlight=False)

    return go


def rerun_chain(console: Console, chain_id: str) -> Op:
    async def go(engine: Engine) -> None:
        chain = await engine.rerun_chain(chain_id, origin="cli")
        await engine.step()
        console.print(
            f"chain {chain.id} started (runs {chain_id} again); follow it with: corthex chain show {chain.id}",
            highlight=False,
        )

    return go


def list_chains(console: Console, *, as_json: bool = False) -> Op:
    async def go(engine: Engine) -> None:
        await engine.step()
        if as_json:
            chains = await engine.list_chains()
            costs = await engine.chain_costs([c.id for c in chains])
            rows = [{**c.to_dict(), "cost_usd": round(costs.get(c.id, (0.0, 0.0))[0], 8)} for c in chains]
            sys.stdout.buffer.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2) + b"\n")
            sys.stdout.flush()
            return
        table = Table(title="chains")
        for column in ("chain", "status", "step", "mode", "departments", "route", "cost $", "command"):
            table.add_column(column)
        for c in await engine.list_chains():
            cost, _ = await engine.chain_cost(c.id)
            mode = ("broadcast" if c.broadcast else "single") + ("/realtime" if c.realtime else "")
            table.add_row(
                c.id,
                c.status.value,
                c.step.value,
                mode,
                ", ".join(c.departments),
                c.route_method or "",
                f"{cost:.6f}",
                c.command[:50],
            )
        console.print(table)

    return go


def show_chain(console: Console, chain_id: str) -> Op:
    async def go(engine: Engine) -> None:
        await engine.step()
        chain = await engine.chain(chain_id)
        console.print(
            f"[bold]{chain.id}[/bold] {chain.status.value} at step {chain.step.value}: {chain.command}", highlight=False
        )
        console.print(_forecast_table(chain, await engine.chain_forecast(chain_id), time.time()))
        for step in await engine.chain_steps(chain_id):
            console.print(_step_table(step.step.value, await _step_rows(engine, step.job_id)))
        if chain.report:
            await _print_report(console, engine, chain)

    return go


def _forecast_table(chain: ChainRow, forecast: ChainForecast, now: float) -> Table:
    """Each step: how it goes out, its job's deadline, when it finished or is predicted to."""
    title = "steps"
    if chain.deadline is not None:
        title += f" — deadline {_when(chain.deadline, now)}"
    if forecast.predicted_finish_at is not None:
        title += f" — predicted finish {_when(forecast.predicted_finish_at, now)}"
    table = Table(title=title)
    for column in ("step", "transport", "state", "deadline", "predicted finish", "finished"):
        table.add_column(column)
    for step in forecast.steps:
        table.add_row(
            step.step,
            step.transport,
            step.state,
            _when(step.deadline, now),
            _when(step.predicted_finish_at, now),
            _when(step.finished_at, now),
        )
    return table


def _when(moment: float | None, now: float) -> str:
    """A local time, with how far ahead it is (or `-`)."""
    if moment is None:
        return "-"
    shown = datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M:%S")
    ahead = moment - now
    return f"{shown} (in {_span(ahead)})" if ahead > 0 else shown


def _span(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


async def _step_rows(engine: Engine, job_id: str | None) -> list[dict[str, Any]]:
    if job_id is None:
        return []
    batches = {b.id: b for b in await engine.batches(job_id)}
    rows = []
    async for chunk in engine.result_rows(job_id):
        for r in chunk:
            batch = batches.get(r["batch_id"] or "")
            r["remote"] = batch.remote.remote_id if batch and batch.remote else (r["batch_id"] or "")
            rows.append(r)
    return rows


def _step_table(step: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"step {step}")
    for column in ("agent", "model", "status", "batch", "tokens in/out", "cost $", "content"):
        table.add_column(column)
    for r in rows:
        content = (r["content"] or r["error_message"] or "").replace("\n", " ")[:60]
        table.add_row(
            r["custom_id"].rsplit(":", 1)[-1],
            r["model"] or "",
            r["status"],
            r["remote"],
            f"{r['input_tokens'] or 0}/{r['output_tokens'] or 0}",
            f"{r['cost_usd'] or 0:.6f}",
            content,
        )
    return table
