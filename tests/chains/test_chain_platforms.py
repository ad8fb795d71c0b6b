"""A chain whose org puts agents on the platforms (issue 15): the manager on Azure OpenAI, the
specialists on Vertex AI, Groq and Amazon Bedrock, by the agent's `provider` in the org YAML; every step's
requests go to the platform named, and the report is delivered. A provider the org names that
is not registered is refused when the org loads, naming the agent and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_support import run_until

from corthex.domain.chain import ChainStatus
from corthex.engine.engine import Engine
from corthex.errors import CorthexError

pytestmark = pytest.mark.usefixtures("vertex_env", "bedrock_env")

ORG = """
chief_of_staff: chief_of_staff
classifier_model: claude-haiku-4-5
broadcast_keywords: [전체]
broadcast_departments: [chief_of_staff]
departments:
  - id: chief_of_staff
    name: 비서실
    division: secretary
    remit: 일정과 보고
    manager:
      id: chief
      name: 비서실장
      model: gpt-5-mini
      provider: azure
      prompt: 당신은 비서실장입니다. 전문가들에게 지시하고 보고서를 씁니다.
    specialists:
      - id: vertex_analyst
        name: 분석가
        model: gemini-2.5-flash
        provider: vertex
        prompt: 당신은 분석가입니다. 짧게 답합니다.
      - id: groq_writer
        name: 작가
        model: llama-3.3-70b-versatile
        provider: groq
        prompt: 당신은 작가입니다. 짧게 답합니다.
      - id: bedrock_reviewer
        name: 검토자
        model: claude-haiku-4-5
        provider: bedrock
        prompt: 당신은 검토자입니다. 짧게 답합니다.
    keywords:
      - priority: 30
        words: [일정]
"""


async def test_a_chain_runs_its_agents_on_azure_vertex_and_groq(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTHEX_AZURE_DEPLOYMENTS", '{"gpt-5-mini": "gpt5mini-batch"}')
    org = tmp_path / "org.yaml"
    org.write_text(ORG, encoding="utf-8")
    engine.settings.org_path = org
    chain = await engine.start_chain("다음 주 일정을 정리해 주세요")
    ended = await run_until(engine, chain.id, limit_s=90)
    assert ended.status is ChainStatus.COMPLETED, ended
    steps = await engine.chain_steps(chain.id)
    providers = {b.provider for step in steps if step.job_id for b in await engine.batches(step.job_id)}
    assert {"azure", "vertex", "groq", "bedrock"} <= providers  # the manager on Azure, each specialist on its own
    assert "anthropic" not in providers  # the keyword routed it: no classifier call


async def test_an_org_naming_an_unknown_provider_is_refused_naming_the_agent(engine: Engine, tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(ORG.replace("provider: groq", "provider: nowhere"), encoding="utf-8")
    engine.settings.org_path = org
    with pytest.raises(CorthexError, match=r"agent 'groq_writer'.*field 'provider': unknown provider 'nowhere'"):
        await engine.start_chain("다음 주 일정을 정리해 주세요")
