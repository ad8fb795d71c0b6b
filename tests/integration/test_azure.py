"""Azure OpenAI through the engine (issue 15): a mixed Korean job sent to Azure by a line's
"provider" and by a route, each model to its deployment, a model without a deployment refused
before anything is stored, a refused key failing at once with the variable named, and
`corthex providers` listing Azure. The real adapter against the emulator's Azure profile."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from corthex.domain.registry import set_routes
from corthex.emulator.server import EmulatorServer
from corthex.engine.engine import Engine
from corthex.errors import SetupError
from corthex.providers.registry import load_providers
from corthex.providers.setup import forget_reached
from corthex.testing import fast_settings

KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"
DEPLOYMENTS = '{"gpt-5-mini": "gpt5mini-global-batch", "gpt-4.1-mini": "gpt41mini-batch"}'


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CORTHEX_AZURE_DEPLOYMENTS", DEPLOYMENTS)
    yield
    set_routes([])
    load_providers(None, force=True)
    forget_reached()


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def _uploaded_models(emulator: EmulatorServer) -> set[str]:
    state = emulator.state.compat["azure"]
    return {
        orjson.loads(line)["body"]["model"]
        for batch in state.openai.batches.values()
        for line in batch.input_path.read_bytes().splitlines()
    }


async def test_a_mixed_job_goes_to_azure_by_provider_and_by_route(tmp_path: Path, emulator: EmulatorServer) -> None:
    routes = tmp_path / "providers.toml"
    routes.write_text('[routes]\n"gpt-4.1*" = "azure"\n', encoding="utf-8")
    lines = [
        {"custom_id": "openai", "model": "gpt-5-mini", "prompt": KOREAN},
        {"custom_id": "by-provider", "provider": "azure", "model": "gpt-5-mini", "prompt": KOREAN},
        *({"custom_id": f"by-route-{i}", "model": "gpt-4.1-mini", "prompt": f"{KOREAN} {i}"} for i in range(2)),
    ]
    async with Engine(fast_settings(tmp_path, providers_file=routes)) as engine:
        report = await engine.submit_file(jsonl(tmp_path / "in.jsonl", lines))
        await engine.wait(report.job_id, timeout=60)
        out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
        batches = await engine.batches(report.job_id)
    assert {k: (v["status"], v["provider"]) for k, v in out.items()} == {
        "openai": ("succeeded", "openai"),
        "by-provider": ("succeeded", "azure"),
        "by-route-0": ("succeeded", "azure"),
        "by-route-1": ("succeeded", "azure"),
    }
    assert all(line["content"] for line in out.values())
    assert sorted(b.provider for b in batches) == ["azure", "azure", "openai"]  # one deployment a batch
    assert _uploaded_models(emulator) >= {"gpt5mini-global-batch", "gpt41mini-batch"}  # deployments, not models


async def test_a_model_without_a_deployment_is_refused_naming_the_variable(tmp_path: Path) -> None:
    line = {"custom_id": "x", "provider": "azure", "model": "gpt-5-nano", "prompt": KOREAN}
    async with Engine(fast_settings(tmp_path)) as engine:
        with pytest.raises(SetupError, match="CORTHEX_AZURE_DEPLOYMENTS") as caught:
            await engine.submit_file(jsonl(tmp_path / "in.jsonl", [line]))
        assert "gpt-5-nano" in str(caught.value) and await engine.jobs() == []


async def test_a_refused_key_fails_at_once_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "bad-key")
    line = {"custom_id": "x", "provider": "azure", "model": "gpt-5-mini", "prompt": KOREAN}
    async with Engine(fast_settings(tmp_path)) as engine:
        with pytest.raises(SetupError, match="AZURE_OPENAI_API_KEY") as caught:
            await engine.submit_file(jsonl(tmp_path / "in.jsonl", [line]))
        assert "401" in str(caught.value) and await engine.jobs() == []


def test_corthex_providers_lists_azure_configured(emulator: EmulatorServer) -> None:
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "corthex", "providers", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in orjson.loads(done.stdout)["providers"]}
    assert rows["azure"]["configured"] and rows["azure"]["ok"], rows["azure"]
