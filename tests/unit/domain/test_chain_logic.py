"""The chain's pure logic: step order, instructions, reports and their fallbacks."""

from __future__ import annotations

from corthex.domain import chain as logic
from corthex.domain.chain import ChainPlan, Outcome, Step
from corthex.org import load_org

ORG = load_org()
CIO = ChainPlan("analyse the stock", ("cio",), broadcast=False)


def test_steps_follow_the_chain_and_only_broadcast_has_a_summary() -> None:
    assert logic.next_step(Step.CLASSIFY, False) is Step.DELEGATE
    assert logic.next_step(Step.SYNTHESIZE, False) is Step.DELIVER
    assert logic.next_step(Step.SYNTHESIZE, True) is Step.SUMMARY
    assert logic.next_step(Step.SUMMARY, True) is Step.DELIVER


def test_manager_instructions_are_parsed_tolerantly() -> None:
    fenced = Outcome(True, '```json\n{"stock_analysis_specialist": "look at margins", "x": 3}\n```')
    assert logic.parse_instructions(fenced) == {"stock_analysis_specialist": "look at margins"}
    assert logic.parse_instructions(Outcome(True, "no json here")) == {}
    assert logic.parse_instructions(Outcome(False, error="rate_limit")) == {}


def test_delegation_asks_for_one_instruction_per_specialist_as_json() -> None:
    [request] = logic.delegate_requests(ORG, CIO)
    schema = request.json_schema or {}
    assert sorted(schema["required"]) == sorted(a.id for a in ORG.department("cio").specialists)
    assert request.model == ORG.department("cio").manager.model


def test_report_falls_back_to_the_specialists_when_the_synthesis_is_empty_bug_8() -> None:
    specialists = {logic.specialist_id("cio", "stock_analysis_specialist"): Outcome(True, "margins are up")}
    synthesis = {logic.synth_id("cio"): Outcome(True, "   ")}
    report = logic.department_report(ORG, "cio", synthesis, specialists)
    assert "synthesis failed (empty answer)" in report and "margins are up" in report
    assert "(failed: no response)" in report  # the specialists that said nothing are named


def test_broadcast_report_keeps_department_reports_when_the_summary_fails() -> None:
    plan = ChainPlan("status", ("cto", "cio"), broadcast=True)
    done = {
        Step.SYNTHESIZE: {
            logic.synth_id("cto"): Outcome(True, "CTO says"),
            logic.synth_id("cio"): Outcome(True, "CIO says"),
        },
        Step.SUMMARY: {"summary": Outcome(False, error="server_error: boom")},
    }
    report = logic.compose(ORG, plan, done)
    assert "summary failed (server_error: boom)" in report and "CTO says" in report and "CIO says" in report
