"""One line of plain text per event worth showing a person: the chain CLI, the demo and the
Telegram progress messages all show these (each adds its own dress: a clock, HTML escaping)."""

from __future__ import annotations

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
)
from corthex.domain.org import Org

COMMAND_EXCERPT = 80  #: characters of a chain's command in its start line
AGENTS_EXCERPT = 120  #: characters of a step's agent list


def describe(event: Event, org: Org | None = None) -> str | None:
    """The event in one line, or None for events not worth a line. With `org`, agents are shown
    by their display names."""
    if isinstance(event, ChainStarted):
        return _started(event)
    if isinstance(event, ChainStepSubmitted):
        agents = excerpt(", ".join(event.agents), AGENTS_EXCERPT)
        return f"▶ {event.step}: {count(len(event.agents), 'request')} sent ({', '.join(event.models)}) — {agents}"
    if isinstance(event, ChainStepDone):
        chosen = f" → departments {', '.join(event.departments)}" if event.departments else ""
        return f"✔ {event.step} done{chosen}; next: {event.next}"
    if isinstance(event, ChainItem):
        return _item(event, org)
    if isinstance(event, BatchSubmitted):
        return f"  ⧗ {event.provider} batch {event.remote_id} ({count(event.requests, 'request')})"
    if isinstance(event, ChainDone):
        return f"chain {event.chain_id} {event.status}"
    return _control(event)


def _control(event: Event) -> str | None:
    """A person's stop or rerun of a chain."""
    if isinstance(event, ChainCanceled):
        stopped = f"{event.canceled:,} canceled, {event.already_done:,} already done"
        return f"⏹ chain {event.chain_id} canceled at {event.step}: {stopped}"
    if isinstance(event, ChainRerun):
        return f"↻ chain {event.chain_id} runs {event.rerun_of} again"
    return None


def _started(event: ChainStarted) -> str:
    mode = ("realtime" if event.realtime else "batch") + (" · broadcast" if event.broadcast else "")
    route = "to be classified"
    if event.route:
        route = f"{event.route} → {', '.join(event.departments)}" if event.departments else event.route
    command = excerpt(event.command, COMMAND_EXCERPT)
    return f"chain {event.chain_id} started ({mode}), route {route}, first step {event.step}: “{command}”"


def _item(event: ChainItem, org: Org | None) -> str:
    mark = {"succeeded": "✔", "canceled": "⊘"}.get(event.status, "✘")  # a cancel is no failure
    name = who(org, event.custom_id)[1] if org is not None else event.agent
    return f"   {mark} {name} ({event.model}){f': {event.error}' if event.error else ''}"


def excerpt(text: str, size: int) -> str:
    """`text` on one line, cut to `size` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
