"""One line of plain text per event worth showing a person: the chain CLI, the demo and the
Telegram progress messages all show these (each adds its own dress: a clock, HTML escaping)."""

from __future__ import annotations

from datetime import UTC, datetime

from corthex.domain.chain import who
from corthex.domain.events import (
    BatchSubmitted,
    ChainCanceled,
    ChainDone,
    ChainItem,
    ChainRerun,
    ChainStarted,
    ChainStepDone,
    ChainStepSubmitted,
    Event,
    RequestsMoved,
)
from corthex.domain.org import Org
from corthex.i18n import step_name, text

COMMAND_EXCERPT = 80  #: characters of a chain's command in its start line
AGENTS_EXCERPT = 120  #: characters of a step's agent list


def describe(event: Event, org: Org | None = None, lang: str = "en") -> str | None:
    """The event in one line, or None for events not worth a line. With `org`, agents are shown
    by their display names; `lang` is a language of `corthex.i18n` (the CLI speaks English)."""
    if isinstance(event, ChainStarted):
        return _started(event, lang)
    if isinstance(event, ChainStepSubmitted):
        names = [agent_name(org, agent) for agent in event.agents]
        agents = excerpt(", ".join(names), AGENTS_EXCERPT)
        step, requests = step_name(lang, event.step), requests_text(lang, len(event.agents))
        return text(lang, "progress.sent", step=step, requests=requests, models=", ".join(event.models), agents=agents)
    if isinstance(event, ChainStepDone):
        chosen = text(lang, "progress.chosen", departments=", ".join(event.departments)) if event.departments else ""
        step, after = step_name(lang, event.step), step_name(lang, event.next)
        return text(lang, "progress.done", step=step, chosen=chosen, next=after)
    if isinstance(event, ChainItem):
        return _item(event, org)
    if isinstance(event, BatchSubmitted):
        requests = requests_text(lang, event.requests)
        return text(lang, "progress.batch", provider=event.provider, remote_id=event.remote_id, requests=requests)
    if isinstance(event, ChainDone):
        return text(lang, "progress.chain_done", chain_id=event.chain_id, status=event.status)
    return _control(event)


def _control(event: Event) -> str | None:
    """A person's stop or rerun of a chain."""
    if isinstance(event, ChainCanceled):
        stopped = f"{event.canceled:,} canceled, {event.already_done:,} already done"
        return f"⏹ chain {event.chain_id} canceled at {event.step}: {stopped}"
    if isinstance(event, ChainRerun):
        return f"↻ chain {event.chain_id} runs {event.rerun_of} again"
    if isinstance(event, RequestsMoved):
        return _moved(event)
    return None


def _moved(event: RequestsMoved) -> str:
    """E.g. `⏩ job job_1: 40 requests to realtime (batch b_1 at openai expected 14:05 UTC, deadline 13:30 UTC)`."""
    where = f"batch {event.batch_id}" if event.batch_id else "a new batch"
    where += f" at {event.provider}" if event.provider else ""
    expected, deadline = clock_time(event.predicted_end), clock_time(event.deadline)
    return (
        f"⏩ job {event.job_id}: {count(event.requests, 'request')} to {event.tier} "
        f"({where} expected {expected}, deadline {deadline})"
    )


def clock_time(ts: float) -> str:
    """A Unix time as `HH:MM UTC` (with the date when it is not today's, UTC)."""
    moment = datetime.fromtimestamp(ts, UTC)
    today = datetime.now(UTC).date()
    return moment.strftime("%H:%M UTC" if moment.date() == today else "%Y-%m-%d %H:%M UTC")


def _started(event: ChainStarted, lang: str) -> str:
    mode = text(lang, "mode.realtime" if event.realtime else "mode.batch")
    mode += f" · {text(lang, 'mode.broadcast')}" if event.broadcast else ""
    route = text(lang, "progress.route_pending")
    if event.route:
        route = f"{event.route} → {', '.join(event.departments)}" if event.departments else event.route
    command = excerpt(event.command, COMMAND_EXCERPT)
    step = step_name(lang, event.step)
    return text(lang, "progress.started", chain_id=event.chain_id, mode=mode, route=route, step=step, command=command)


def _item(event: ChainItem, org: Org | None) -> str:
    mark = {"succeeded": "✔", "canceled": "⊘"}.get(event.status, "✘")  # a cancel is no failure
    name = who(org, event.custom_id)[1] if org is not None else event.agent
    return f"   {mark} {name} ({event.model}){f': {event.error}' if event.error else ''}"


def agent_name(org: Org | None, name: str) -> str:
    """A step request's agent by its display name in the org: `name` is an agent id (specialists),
    a department id (its manager: delegate, synthesize) or "summary" (the chief of staff); the
    name itself when there is no org or the org has no such one."""
    if org is None:
        return name
    department = org.chief_of_staff if name == "summary" else name
    try:
        return org.agent(name).name
    except LookupError:
        pass
    try:
        return org.department(department).manager.name
    except LookupError:
        return name


def requests_text(lang: str, n: int) -> str:
    return text(lang, "progress.request") if n == 1 else text(lang, "progress.requests", count=n)


def excerpt(text: str, size: int) -> str:
    """`text` on one line, cut to `size` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
