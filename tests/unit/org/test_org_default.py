"""The packaged default org: CORTHEX HQ's departments, on all three providers (LESSONS §3.7)."""

from __future__ import annotations

import pytest

from corthex.domain.org import Org
from corthex.domain.pricing import batch_cost
from corthex.domain.registry import BUILTIN_NAMES, provider_for_model
from corthex.domain.requests import ProviderName
from corthex.domain.results import Usage
from corthex.org import DEFAULT_ORG_PATH, load_org

SPECIALISTS = {
    "chief_of_staff": ["report", "schedule", "relay"],
    "cto": ["frontend", "backend", "infra", "ai_model"],
    "cso": ["market_research", "business_plan", "financial_model"],
    "clo": ["copyright", "patent"],
    "cmo": ["survey", "content", "community"],
    "cio": ["market_condition", "stock_analysis", "technical_analysis", "risk_management"],
    "cpo": ["chronicle", "editor", "archive"],
}


@pytest.fixture(scope="module")
def org() -> Org:
    return load_org()


def test_default_org_has_corthex_hq_departments_and_specialists(org: Org) -> None:
    assert org.department_ids == tuple(SPECIALISTS)
    assert org.chief_of_staff == "chief_of_staff"
    assert org.department("chief_of_staff").manager.id == "chief_of_staff"
    for dept_id, roles in SPECIALISTS.items():
        dept = org.department(dept_id)
        assert [a.id for a in dept.specialists] == [f"{r}_specialist" for r in roles]
        if dept_id != "chief_of_staff":
            assert dept.manager.id == f"{dept_id}_manager"
    assert org.agent("technical_analysis_specialist").name == "Technical Analysis Specialist"


def test_default_org_divisions_follow_corthex_hq(org: Org) -> None:
    assert {d.id: d.division for d in org.departments} == {
        "chief_of_staff": "secretary",
        "cto": "leet_master.tech",
        "cso": "leet_master.strategy",
        "clo": "leet_master.legal",
        "cmo": "leet_master.marketing",
        "cio": "finance.investment",
        "cpo": "publishing",
    }


def test_every_model_has_a_provider_and_all_three_are_used(org: Org) -> None:
    providers = {a.id: provider_for_model(a.model) for a in org.agents}
    assert None not in providers.values()
    assert set(providers.values()) == set(BUILTIN_NAMES)
    assert provider_for_model(org.classifier_model) is not None


def test_every_department_has_a_non_anthropic_agent_and_cio_mixes_all_three(org: Org) -> None:
    for dept in org.departments:
        assert any(provider_for_model(a.model) is not ProviderName.ANTHROPIC for a in dept.agents), dept.id
    assert {provider_for_model(a.model) for a in org.department("cio").agents} == set(BUILTIN_NAMES)


def test_every_model_has_a_batch_price(org: Org) -> None:
    for model in {a.model for a in org.agents} | {org.classifier_model}:
        provider = provider_for_model(model)
        assert provider is not None
        cost = batch_cost(provider, model, Usage(input_tokens=1000, output_tokens=1000))
        assert cost is not None and cost > 0, model


def test_every_prompt_is_short_and_asks_for_text_only(org: Org) -> None:
    for agent in org.agents:
        sentences = [s for s in agent.prompt.replace("!", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4, agent.id
        assert "text only" in agent.prompt and "tool" in agent.prompt, agent.id


def test_broadcast_runs_the_six_departments_and_every_department_has_keywords(org: Org) -> None:
    assert org.broadcast_departments == ("cto", "cso", "clo", "cmo", "cio", "cpo")
    assert {
        "전체",
        "모든 부서",
        "출석",
        "회의",
        "현황 보고",
        "총괄",
        "전원",
        "각 부서",
        "출석체크",
        "브리핑",
        "all departments",
        "everyone",
        "broadcast",
    } == set(org.broadcast_keywords)
    assert all(d.keywords for d in org.departments)


def test_w20_keywords_are_placed_as_documented(org: Org) -> None:
    def owners(keyword: str) -> dict[str, int]:
        return {d.id: r.priority for d in org.departments for r in d.keywords if r.keyword == keyword}

    assert list(owners("전략")) == ["cso"]
    assert owners("주식")["cio"] > owners("시장")["cso"]
    assert owners("stock")["cio"] > owners("market")["cso"]
    assert owners("투자")["cio"] > owners("전략")["cso"]
    assert list(owners("IP")) == ["clo"] and list(owners("특허")) == ["clo"]
    assert list(owners("회의록")) == ["cpo"]


def test_default_path_is_the_packaged_file() -> None:
    assert DEFAULT_ORG_PATH.name == "default.yaml" and DEFAULT_ORG_PATH.is_file()
    assert load_org(DEFAULT_ORG_PATH) == load_org()
