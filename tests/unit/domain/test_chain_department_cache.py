"""The chain and batch-aware caching (issue 17): every specialist of a department starts from the
department's context, the same cached prefix, so one write serves them all (pure)."""

from __future__ import annotations

from dataclasses import replace

from corthex.domain import chain as logic
from corthex.domain.cache_groups import cache_group, marked_prefix
from corthex.domain.chain import ChainPlan, Outcome
from corthex.org import load_org

BACKGROUND = "우리 회사는 서울에 본사를 둔 핀테크 기업이다. Our house rules for every analysis follow. " * 60


def test_specialists_of_a_department_share_its_context_as_their_cached_prefix() -> None:
    org = load_org()
    cio = replace(org.department("cio"), context=BACKGROUND)
    org = replace(org, departments=tuple(cio if d.id == "cio" else d for d in org.departments))
    plan = ChainPlan("삼성전자 주식을 분석하라", ("cio",), broadcast=False)
    delegation = {logic.delegate_id("cio"): Outcome(True, '{"market_condition_specialist": "금리를 보라"}')}
    requests = logic.specialist_requests(org, plan, delegation)
    assert len(requests) == len(cio.specialists) >= 2
    assert {r.system for r in requests} == {logic.department_context(cio)}  # one prefix for all
    assert BACKGROUND.strip() in logic.department_context(cio)
    assert all(r.cache_system for r in requests)
    assert len({str(marked_prefix(r)) for r in requests}) == 1
    same_model = [r for r in requests if r.model == requests[0].model]
    assert len({cache_group(r) for r in same_model}) == 1 and cache_group(same_model[0]) is not None
    for request, agent in zip(requests, cio.specialists, strict=True):  # each keeps its own role, after the prefix
        assert agent.prompt in request.messages[0].content
