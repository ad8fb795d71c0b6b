"""Mistral through the engine (issue 15): a mixed Korean job with Mistral lines beside OpenAI's,
every result back with its cost; a missing key refused before anything is stored."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from corthex.domain.registry import provider_for_model
from corthex.engine.engine import Engine
from corthex.errors import SetupError
from corthex.testing import fast_settings

KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_mistral_models_route_to_mistral() -> None:
    for model in ("mistral-small-latest", "magistral-medium-latest", "codestral-latest", "open-mistral-nemo"):
        assert provider_for_model(model) == "mistral"


@pytest.mark.usefixtures("emulator_env")
async def test_a_mixed_korean_job_with_mistral_lines(tmp_path: Path) -> None:
    async with Engine(fast_settings(tmp_path)) as engine:
        lines = [
            {"custom_id": "o", "model": "gpt-5-mini", "prompt": KOREAN},
            *({"custom_id": f"s{i}", "model": "mistral-small-latest", "prompt": f"{KOREAN} {i}"} for i in range(3)),
            {"custom_id": "c", "model": "codestral-latest", "prompt": KOREAN, "max_output_tokens": 64, "seed": 3},
        ]
        report = await engine.submit_file(jsonl(tmp_path / "in.jsonl", lines))
        await engine.wait(report.job_id, timeout=60)
        out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
        batches = await engine.batches(report.job_id)
    assert {k: (v["status"], v["provider"]) for k, v in out.items()} == {
        "o": ("succeeded", "openai"),
        **{f"s{i}": ("succeeded", "mistral") for i in range(3)},
        "c": ("succeeded", "mistral"),
    }
    assert all(line["content"] for line in out.values())
    assert all(line["cost_usd"] > 0 for line in out.values())  # genai-prices prices Mistral's models; 50% off
    assert sorted(b.provider for b in batches) == ["mistral", "mistral", "openai"]  # one model per job


async def test_mistral_without_its_key_is_refused_before_anything_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    line = {"custom_id": "m", "model": "mistral-small-latest", "prompt": KOREAN}
    async with Engine(fast_settings(tmp_path)) as engine:
        with pytest.raises(SetupError, match="MISTRAL_API_KEY is not set") as caught:
            await engine.submit_file(jsonl(tmp_path / "in.jsonl", [line]))
        assert "mistral" in str(caught.value) and await engine.jobs() == []
