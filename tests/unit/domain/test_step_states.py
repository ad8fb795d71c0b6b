"""Each chain step's state is worked out on the server (issue 13), with the rules the dashboard's
JavaScript used to apply itself."""

from __future__ import annotations

from corthex.domain.chain import ChainStatus, Step
from corthex.domain.step_states import StepState, step_states

S = StepState


def states(current: Step, status: ChainStatus, broadcast: bool = False, **recorded: str) -> list[tuple[str, str]]:
    rows = {Step(k): v for k, v in recorded.items()}
    return [(step.value, state.value) for step, state in step_states(current, status, broadcast, rows)]


def test_a_running_chain_keyword_routed_past_classify() -> None:
    assert states(Step.SPECIALISTS, ChainStatus.RUNNING, delegate="done", specialists="running") == [
        ("classify", "skipped"),  # keywords chose the departments: no row, behind the current step
        ("delegate", "done"),
        ("specialists", "running"),
        ("synthesize", "pending"),
        ("deliver", "pending"),
    ]


def test_only_a_broadcast_has_a_summary_step() -> None:
    names = [s for s, _ in states(Step.CLASSIFY, ChainStatus.RUNNING, broadcast=True)]
    assert names == ["classify", "delegate", "specialists", "synthesize", "summary", "deliver"]
    assert "summary" not in [s for s, _ in states(Step.CLASSIFY, ChainStatus.RUNNING)]


def test_a_chain_stopped_mid_step_shows_that_step_stopped() -> None:
    assert states(Step.DELEGATE, ChainStatus.STOPPED, classify="done", delegate="running")[:3] == [
        ("classify", "done"),
        ("delegate", "stopped"),
        ("specialists", "pending"),
    ]
    # stopped before its step had a row (the budget refused the submission)
    assert ("delegate", "stopped") in states(Step.DELEGATE, ChainStatus.STOPPED, classify="done")


def test_delivery_runs_then_is_done_once_completed() -> None:
    assert states(Step.DELIVER, ChainStatus.RUNNING)[-1] == ("deliver", "running")
    done = states(Step.DONE, ChainStatus.COMPLETED, delegate="done", specialists="done", synthesize="done")
    assert done == [
        ("classify", "skipped"),
        ("delegate", "done"),
        ("specialists", "done"),
        ("synthesize", "done"),
        ("deliver", "done"),
    ]
    assert states(Step.DONE, ChainStatus.FAILED)[-1] == ("deliver", "pending")
