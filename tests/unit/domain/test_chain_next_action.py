"""`next_action`: what advancing a chain does, for each state its current step can be in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from corthex.domain.chain import Action, ChainStatus, JobState, Step, next_action
from corthex.domain.storable import nul_refusal, storable


@dataclass(frozen=True)
class Chain:
    step: Step = Step.SPECIALISTS
    realtime: bool = False
    status: ChainStatus = ChainStatus.RUNNING


@dataclass(frozen=True)
class StepRow:
    job_id: str | None = "job_1_specialists"
    realtime: bool = False


CLAIMED, NOTHING_SENT, CLAIMED_REALTIME = StepRow(), StepRow(job_id=None), StepRow(realtime=True)


@pytest.mark.parametrize(
    ("chain", "step", "job", "action"),
    [
        (Chain(Step.DELIVER), None, None, Action.DELIVER),
        (Chain(Step.DELIVER, realtime=True), CLAIMED, JobState.RUNNING, Action.DELIVER),
        (Chain(), None, None, Action.ENTER),  # the step is not claimed yet
        (Chain(), CLAIMED, JobState.MISSING, Action.ENTER),  # a crash between claiming and recording
        (Chain(realtime=True), CLAIMED, JobState.MISSING, Action.ENTER),
        (Chain(), NOTHING_SENT, None, Action.COMPLETE),  # the step had nothing to send
        (Chain(), CLAIMED, JobState.DONE, Action.COMPLETE),
        (Chain(realtime=True), CLAIMED, JobState.DONE, Action.COMPLETE),
        (Chain(realtime=True), CLAIMED_REALTIME, JobState.RUNNING, Action.RESUME_REALTIME),
        # the org sends this step realtime (its transport), the chain as a whole goes by batch
        (Chain(), CLAIMED_REALTIME, JobState.RUNNING, Action.RESUME_REALTIME),
        (Chain(Step.CLASSIFY), CLAIMED_REALTIME, JobState.DONE, Action.COMPLETE),
        (Chain(), CLAIMED, JobState.RUNNING, Action.WAIT),  # the batch is still out
        (Chain(Step.CLASSIFY), CLAIMED, JobState.RUNNING, Action.WAIT),
    ],
)
def test_a_running_chain_does_what_its_current_step_calls_for(
    chain: Chain, step: StepRow | None, job: JobState | None, action: Action
) -> None:
    assert next_action(chain, step, job) is action


@pytest.mark.parametrize("status", [ChainStatus.COMPLETED, ChainStatus.STOPPED, ChainStatus.FAILED])
@pytest.mark.parametrize("step", [Step.DELIVER, Step.DONE, Step.SYNTHESIZE])
def test_a_chain_that_is_not_running_has_nothing_to_do(status: ChainStatus, step: Step) -> None:
    assert next_action(Chain(step, status=status), None, None) is Action.WAIT
    assert next_action(Chain(step, realtime=True, status=status), CLAIMED, JobState.DONE) is Action.WAIT


def test_the_nul_rule_refuses_input_naming_it_and_replaces_it_in_provider_text() -> None:
    assert nul_refusal("the command", "보고서를 써 줘") is None
    assert nul_refusal("the command", "보고서\x00") == "the command must not contain a NUL character"
    assert storable("답\x00변") == "답\ufffd변"
    assert storable(None) is None and storable("한국어") == "한국어"
