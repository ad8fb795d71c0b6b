"""What the dashboard shows for each step of a chain (its "ladder"): computed here once, so the
browser shows the server's answer instead of re-deriving it from the chain's fields."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from corthex.domain.chain import ChainStatus, Step


class StepState(enum.StrEnum):
    DONE = "done"
    RUNNING = "running"
    PENDING = "pending"
    SKIPPED = "skipped"  #: passed over (e.g. classify, when keywords chose the departments)
    STOPPED = "stopped"  #: the chain ended while this step was under way


#: the steps in the order a chain takes them (summary only for a broadcast)
LADDER = (Step.CLASSIFY, Step.DELEGATE, Step.SPECIALISTS, Step.SYNTHESIZE, Step.SUMMARY, Step.DELIVER)


def step_states(
    current: Step, status: ChainStatus, broadcast: bool, recorded: Mapping[Step, str]
) -> list[tuple[Step, StepState]]:
    """Each step of the chain's path with its state. `recorded` is the state of each step that has a
    row (running, done or skipped), `current` the chain's step."""
    at = len(LADDER) if current is Step.DONE else LADDER.index(current)
    path = [s for s in LADDER if s is not Step.SUMMARY or broadcast]
    return [(s, _state(s, LADDER.index(s), at, status, recorded.get(s))) for s in path]


def _state(step: Step, index: int, at: int, status: ChainStatus, record: str | None) -> StepState:
    running = status is ChainStatus.RUNNING
    if step is Step.DELIVER:
        if status is ChainStatus.COMPLETED:
            return StepState.DONE
        return StepState.RUNNING if index == at else StepState.PENDING
    if record is not None:
        return StepState.STOPPED if record == StepState.RUNNING and not running else StepState(record)
    if index == at:
        return StepState.RUNNING if running else StepState.STOPPED
    return StepState.SKIPPED if index < at else StepState.PENDING
