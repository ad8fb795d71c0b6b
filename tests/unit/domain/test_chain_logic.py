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


def test_a_cut_or_empty_agent_answer_is_that_agents_failure_with_the_steps_fallback() -> None:
    """Issue 11 item 3: half an instruction set, a cut specialist report or a cut synthesis is
    no answer: the delegation falls back to the command, the specialist is named as failed,
    the synthesis falls back to the specialists' reports."""
    cut_json = Outcome(True, '{"stock_analysis_specialist": "look at mar', finish_reason="length")
    assert logic.parse_instructions(cut_json) == {}
    cut_ok = Outcome(True, '{"stock_analysis_specialist": "look at margins"}', finish_reason="length")
    assert logic.parse_instructions(cut_ok) == {}  # even a cut that happens to parse is not trusted
    empty = Outcome(False, error="max_output_tokens: the output budget ran out", finish_reason="length")
    sid = logic.specialist_id("cio", "stock_analysis_specialist")
    specialists = {sid: Outcome(True, "margins are", finish_reason="length")}
    agent = next(a for a in ORG.department("cio").specialists if a.id == "stock_analysis_specialist")
    assert agent.name in logic.failed_specialists(ORG.department("cio"), specialists)
    synthesis = {logic.synth_id("cio"): Outcome(True, "The quarter was", finish_reason="length")}
    report = logic.department_report(ORG, "cio", synthesis, {sid: Outcome(True, "margins are up")})
    assert "synthesis failed (the answer was cut at the output budget" in report and "margins are up" in report
    report = logic.department_report(ORG, "cio", {logic.synth_id("cio"): empty}, specialists)
    assert "max_output_tokens" in report and "(failed: the answer was cut" in report


def test_thinking_models_get_budgets_that_fit() -> None:
    """A manager on a model that thinks gets at least the thinking floor, even for the small
    classify and delegate steps (512 and 1,024 tokens would go on thinking alone)."""
    from corthex.domain.thinking import THINKING_FLOOR, thinks

    plan = ChainPlan("status", tuple(d.id for d in ORG.departments if d.specialists), broadcast=True)
    requests = logic.delegate_requests(ORG, plan) + logic.specialist_requests(ORG, plan, {})
    assert any(thinks(r.model) for r in requests), "the default org has thinking managers"
    for r in requests:
        assert r.max_output_tokens is not None
        assert r.max_output_tokens >= (THINKING_FLOOR if thinks(r.model) else 1024), r.custom_id
    assert thinks("gpt-5.2") and thinks("gemini-2.5-pro") and thinks("gemini-3-pro-preview") and thinks("o3")
    assert not thinks("claude-sonnet-4-6") and not thinks("gemini-2.5-flash-lite") and not thinks("gpt-5-chat-latest")
