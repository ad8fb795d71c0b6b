"""Claude on Amazon Bedrock through the engine: lines routed to `bedrock` go as one batch inference
job (the emulator's control plane, a real local S3), every result comes back, priced; a refused key
fails the job at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from corthex.config import Settings
from corthex.domain.registry import set_routes
from corthex.engine.engine import Engine
from corthex.errors import SetupError
from corthex.testing import fast_settings
from corthex.testing.s3 import LocalS3


@pytest.fixture(autouse=True)
def _bedrock(bedrock_env: LocalS3) -> None:
    """Every test here runs against the emulator's Bedrock and the local S3."""


def lines(n: int, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"b{i}",
            "model": "claude-haiku-4-5",
            "prompt": f"{i}번 상품 리뷰를 한 줄로 요약해 주세요",
            **extra,
        }
        for i in range(n)
    ]


async def test_a_claude_job_sent_to_bedrock_gets_every_result_back_priced(engine: Engine) -> None:
    report = await engine.submit(lines(6, provider="bedrock", max_output_tokens=64))
    summary = await engine.wait(report.job_id, timeout=60)
    assert summary.status.value == "completed" and summary.succeeded == 6
    results = [line async for line in engine.results(report.job_id)]
    assert [r["custom_id"] for r in results] == [f"b{i}" for i in range(6)]
    assert all(r["provider"] == "bedrock" and r["status"] == "succeeded" and r["content"] for r in results)
    assert all(isinstance(r["cost_usd"], float) and r["cost_usd"] > 0 for r in results)


async def test_a_route_sends_claude_to_bedrock(engine: Engine) -> None:
    set_routes([("claude-*", "bedrock")])
    try:
        report = await engine.submit(lines(3))
        summary = await engine.wait(report.job_id, timeout=60)
    finally:
        set_routes([])
    assert summary.succeeded == 3 and set(summary.by_provider) == {"bedrock"}


async def test_bedrocks_own_model_ids_are_taken_as_written(engine: Engine) -> None:
    report = await engine.submit(
        [
            {
                "custom_id": "own",
                "model": "us.anthropic.claude-sonnet-4-6",
                "prompt": "안녕하세요",
                "max_output_tokens": 32,
            }
        ]
    )
    summary = await engine.wait(report.job_id, timeout=60)
    assert summary.succeeded == 1 and set(summary.by_provider) == {"bedrock"}


async def test_a_refused_key_is_refused_before_anything_is_stored_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setup check reaches Bedrock by a signed call (a key refused after submission fails
    the batch at once instead: tests/sdk/test_bedrock_sdk.py)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "bad-key")
    async with Engine(fast_settings(tmp_path)) as engine:
        with pytest.raises(SetupError, match="UnrecognizedClientException.*check AWS_ACCESS_KEY_ID"):
            await engine.submit(lines(2, provider="bedrock"))
        assert await engine.jobs() == []


async def test_bedrock_without_its_role_or_bucket_is_refused_before_anything_is_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORTHEX_BEDROCK_ROLE_ARN")
    monkeypatch.delenv("CORTHEX_BEDROCK_S3_URI")
    line = {"custom_id": "b", "provider": "bedrock", "model": "claude-haiku-4-5", "prompt": "회의록을 요약해 주세요"}
    with pytest.raises(SetupError, match="CORTHEX_BEDROCK_ROLE_ARN and CORTHEX_BEDROCK_S3_URI are not set"):
        await engine.submit([line])
    assert await engine.jobs() == []


async def test_corthex_providers_reaches_bedrock_by_a_signed_call(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {row["name"]: row for row in (await Engine.providers(settings)).to_dict()["providers"]}
    assert (rows["bedrock"]["configured"], rows["bedrock"]["reachable"], rows["bedrock"]["ok"]) == (True, True, True)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "bad-key")
    rows = {row["name"]: row for row in (await Engine.providers(settings)).to_dict()["providers"]}
    assert rows["bedrock"]["reachable"] is True and "check AWS_ACCESS_KEY_ID" in rows["bedrock"]["problem"]
