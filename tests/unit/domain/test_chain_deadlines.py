"""A chain's deadline, pure (issue 17): each step's expected duration, the share of the time left
each step gets in proportion to it, and the forecast of when the steps end."""

from __future__ import annotations

from dataclasses import replace

import pytest

from corthex.domain.chain import ChainPlan, Step
from corthex.domain.chain_deadlines import (
    REALTIME_STEP_SECONDS,
    StepPlan,
    chained_ends,
    groups_of,
    shares,
    step_deadline,
    step_end,
    step_seconds,
    steps_ahead,
)
from corthex.domain.turnaround import PRIORS, PastBatch
from corthex.org import load_org

ORG = load_org()
NOW = 1_800_000_000.0


def test_the_time_left_is_shared_in_proportion_to_each_steps_predicted_duration() -> None:
    # 1 h left: a 30 s realtime step, a 10 min batch, a 20 min batch
    ends = shares(NOW, NOW + 3600, [30.0, 600.0, 1200.0])
    total = 30 + 600 + 1200
    assert ends == pytest.approx([NOW + 3600 * 30 / total, NOW + 3600 * 630 / total, NOW + 3600])
    # the first step's job deadline and its share of the chain's margin
    deadline, margin = step_deadline(NOW, NOW + 3600, 360.0, [600.0, 1200.0])
    assert deadline == pytest.approx(NOW + 1200) and margin == pytest.approx(120.0)


def test_a_deadline_already_past_leaves_every_step_no_time_and_steps_of_no_duration_share_equally() -> None:
    assert shares(NOW, NOW - 5, [30.0, 600.0]) == [NOW, NOW]
    assert shares(NOW, NOW + 100, [0.0, 0.0]) == pytest.approx([NOW + 50, NOW + 100])
    assert step_deadline(NOW, NOW + 100, 10.0, []) == (NOW + 100, 10.0)


def test_a_batch_step_takes_its_slowest_providers_predicted_turnaround_and_a_realtime_step_a_fixed_time() -> None:
    groups = (("anthropic", "claude-haiku-4-5", 3), ("openai", "gpt-5-mini", 3))
    history = [PastBatch("openai", "gpt-5-mini", 3, s) for s in (40.0, 50.0, 60.0)]
    batch = step_seconds(history, StepPlan("specialists", False, groups))
    # OpenAI has history (about a minute); Anthropic has none: its prior (never shrunk for a small
    # batch) is the slower and sets the step's duration
    assert batch == pytest.approx(PRIORS["anthropic"])
    assert step_seconds(history, StepPlan("specialists", True, groups)) == REALTIME_STEP_SECONDS
    assert step_seconds(history, StepPlan("delegate", False, ())) == 0.0  # sends nothing


def test_the_steps_ahead_follow_the_org_transport_and_count_each_departments_agents() -> None:
    plan = ChainPlan("삼성전자 주가 분석", ("cio",), broadcast=False)
    org = replace(ORG, realtime_steps=frozenset({"delegate"}))
    ahead = steps_ahead(org, plan, Step.DELEGATE, realtime=False)
    assert [(s.step, s.realtime) for s in ahead] == [("delegate", True), ("specialists", False), ("synthesize", False)]
    cio = ORG.department("cio")
    assert sum(n for _, _, n in ahead[1].groups) == len(cio.specialists)
    assert sum(n for _, _, n in ahead[2].groups) == 1
    # a realtime chain: every step realtime; before classification the largest department is assumed
    unrouted = ChainPlan("무엇이든", (), broadcast=False)
    first = steps_ahead(ORG, unrouted, Step.CLASSIFY, realtime=True)
    assert [s.step for s in first] == ["classify", "delegate", "specialists", "synthesize"]
    assert all(s.realtime for s in first)
    largest = max(len(d.specialists) for d in ORG.departments)
    assert sum(n for _, _, n in first[2].groups) == largest
    broadcast = steps_ahead(
        ORG, ChainPlan("전 부서 현황", ("cto", "cio"), broadcast=True), Step.SYNTHESIZE, realtime=False
    )
    assert [s.step for s in broadcast] == ["synthesize", "summary"]


def test_groups_are_one_batch_per_provider_and_model() -> None:
    plan = ChainPlan("삼성전자 주가 분석", ("cio",), broadcast=False)
    [specialists] = [s for s in steps_ahead(ORG, plan, Step.SPECIALISTS, realtime=False) if s.step == "specialists"]
    assert groups_of([]) == ()
    assert len({(p, m) for p, m, _ in specialists.groups}) == len(specialists.groups)


def test_the_running_step_ends_with_its_last_batch_and_later_steps_follow_one_after_another() -> None:
    assert step_end(NOW, [NOW + 10, NOW + 40], queued_seconds=0.0) == NOW + 40
    assert step_end(NOW, [NOW + 10], queued_seconds=60.0) == NOW + 60  # requests not yet in a batch
    assert step_end(NOW, [], queued_seconds=0.0) == NOW
    assert chained_ends(NOW + 40, [30.0, 600.0]) == [NOW + 70, NOW + 670]
