"""A chain's deadline (issue 17), pure: how long each step still to run is expected to take, how
the time left to the deadline is shared among them, and when the chain and each step are
predicted to finish.

A step is expected to take, going by batch, as long as the slowest of its batches (one per
provider and model, run side by side), each predicted by the learned turnaround
(domain/turnaround.py: history of the same provider and model, else the provider's, else the
prior) at the step's request count; going realtime, a small fixed time. The time left is shared
among the steps still to run in proportion to those durations: a step's job gets the end of its
share as its own deadline, and the job's mover (engine/deadlines.py) sends it faster when its
batches would end past it. Each step's share is worked out again when it is entered, so a step
that finishes early leaves the time it saved to the ones after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from corthex.domain.chain import ChainPlan, Step, classify_requests, next_step, step_requests
from corthex.domain.org import Org
from corthex.domain.requests import LLMRequest
from corthex.domain.turnaround import OpenBatch, PastBatch, predict

#: what a realtime step is expected to take: a handful of calls side by side, each a few seconds
#: to a minute of output (the chain's steps write at most a few thousand tokens)
REALTIME_STEP_SECONDS = 30.0

#: (provider, model, requests): one batch of a step
Group = tuple[str, str | None, int]


@dataclass(frozen=True, slots=True)
class StepPlan:
    """A step still to run, as its deadline share sees it."""

    step: str
    realtime: bool  #: its calls go out realtime (the chain's flag or the org's transport)
    groups: tuple[Group, ...]  #: its batches: none for a step that sends nothing


def expected_requests(org: Org, plan: ChainPlan, step: Step) -> list[LLMRequest]:
    """The requests `step` is expected to send, before the steps ahead of it have answered.
    Before the classifier has chosen, the largest department is assumed (deadlines want the
    late side)."""
    if step is Step.CLASSIFY:
        return classify_requests(org, plan.command)
    if not plan.departments:
        largest = max(org.departments, key=lambda d: len(d.specialists))
        plan = replace(plan, departments=(largest.id,))
    return step_requests(org, plan, step, {})


def groups_of(requests: Sequence[LLMRequest]) -> tuple[Group, ...]:
    """The batches `requests` go out in: one per provider and model."""
    counts = Counter((str(r.provider), r.model) for r in requests)
    return tuple((provider, model, n) for (provider, model), n in sorted(counts.items()))


def steps_ahead(org: Org, plan: ChainPlan, step: Step, *, realtime: bool) -> list[StepPlan]:
    """`step` and every step after it until the report is delivered. `realtime`: the chain's
    own flag (every step realtime); else the org's transport decides step by step."""
    ahead: list[StepPlan] = []
    while step not in (Step.DELIVER, Step.DONE):
        requests = expected_requests(org, plan, step)
        ahead.append(StepPlan(step.value, realtime or step.value in org.realtime_steps, groups_of(requests)))
        step = next_step(step, plan.broadcast)
    return ahead


def step_seconds(history: Sequence[PastBatch], step: StepPlan) -> float:
    """How long the step is expected to take from its start (0 for one that sends nothing)."""
    if not step.groups:
        return 0.0
    if step.realtime:
        return REALTIME_STEP_SECONDS
    return max(batch_seconds(history, group) for group in step.groups)


def batch_seconds(history: Sequence[PastBatch], group: Group) -> float:
    """How long a batch of `group` sent now is expected to take, creation to end."""
    provider, model, count = group
    return predict(history, OpenBatch(provider, model, count, 0.0)).seconds


def shares(now: float, deadline: float, durations: Sequence[float]) -> list[float]:
    """The end of each step's share of the time from `now` to `deadline`, in proportion to its
    expected duration (steps expected to take no time get none; all of them nothing: equal
    shares). A deadline already past gives every step `now`: each is late at once."""
    left = max(deadline - now, 0.0)
    total = sum(durations)
    weights = list(durations) if total > 0 else [1.0] * len(durations)
    total = sum(weights)
    ends, spent = [], 0.0
    for weight in weights:
        spent += weight
        ends.append(now + left * spent / total if total else now)
    return ends


def step_deadline(now: float, deadline: float, margin: float, durations: Sequence[float]) -> tuple[float, float]:
    """(deadline, margin) of the job of the first of the steps still to run (`durations`, its
    own first): the end of its share, and its share of the chain's margin."""
    if not durations:
        return deadline, margin
    total = sum(durations)
    share = durations[0] / total if total > 0 else 1.0 / len(durations)
    return shares(now, deadline, durations)[0], margin * share


# -- forecasts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepForecast:
    """When a step of a chain finished or is predicted to finish."""

    step: str
    transport: str  #: "batch" or "realtime": how its calls go out (a batch step may be moved faster)
    state: str  #: "done", "running" or "pending"
    predicted_finish_at: float | None  #: Unix time (None for a done step: `finished_at` says)
    finished_at: float | None = None  #: Unix time its job completed
    deadline: float | None = None  #: its job's own deadline (its share of the chain's), if any

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class ChainForecast:
    """When a chain is predicted to finish, and each of its steps."""

    chain_id: str
    deadline: float | None
    predicted_finish_at: float | None  #: None once the chain has ended (`finished_at` says)
    finished_at: float | None
    steps: tuple[StepForecast, ...]

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["steps"] = [s.to_dict() for s in self.steps]
        return data

    def step(self, name: str) -> StepForecast | None:
        return next((s for s in self.steps if s.step == name), None)


def chained_ends(start: float, durations: Sequence[float]) -> list[float]:
    """The predicted end of each of steps run one after another from `start`."""
    ends, at = [], start
    for seconds in durations:
        at += seconds
        ends.append(at)
    return ends


def step_end(now: float, open_ends: Sequence[float], *, queued_seconds: float) -> float:
    """The predicted end of the running step: the last of its open batches' predicted ends, and
    of `now` plus what its requests not yet in a batch still need (0 when none)."""
    candidates = [*open_ends, now + queued_seconds if queued_seconds > 0 or not open_ends else now]
    return max(candidates)
