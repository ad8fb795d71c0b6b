"""Vertex AI through the engine (issue 15): a Gemini job routed to Vertex goes into Cloud Storage
(the local gcp-storage-emulator), runs as batch prediction jobs in the emulator, and every result
comes back with its cost; a refused credential fails the batch at once, naming the variable."""

from __future__ import annotations

import time
from typing import Any

import pytest

from corthex.domain.registry import ProviderName, profile_of, provider_for_model, set_routes
from corthex.emulator import EmulatorServer, Fault
from corthex.emulator.answers import ERROR_HOOK
from corthex.engine.engine import Engine
from corthex.errors import SetupError

pytestmark = pytest.mark.usefixtures("vertex_env")
KOREAN = "다음 문장을 한 줄로 요약해 주세요: 오늘 서울은 맑고 따뜻합니다"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_attempts": 1}  # what the provider said stays in the output (no second attempt)


def lines(n: int, **extra: str) -> list[dict[str, object]]:
    return [{"custom_id": f"v{i}", "model": "gemini-2.5-flash", "prompt": f"{KOREAN} ({i})", **extra} for i in range(n)]


async def test_a_gemini_job_routed_to_vertex_brings_every_result_back_with_its_cost(engine: Engine) -> None:
    report = await engine.submit(lines(4, provider="vertex"))
    summary = await engine.wait(report.job_id, timeout=60)
    out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    batches = await engine.batches(report.job_id)
    assert summary.status.is_final
    assert {k: (v["status"], v["provider"]) for k, v in out.items()} == {
        f"v{i}": ("succeeded", "vertex") for i in range(4)
    }
    assert all(v["content"] and v["cost_usd"] > 0 for v in out.values())
    assert [b.provider for b in batches] == ["vertex"]


async def test_a_route_sends_neutral_gemini_ids_to_vertex(engine: Engine) -> None:
    set_routes([("gemini-*", "vertex")])
    try:
        assert provider_for_model("gemini-2.5-flash") == "vertex"
        report = await engine.submit(lines(2))
        await engine.wait(report.job_id, timeout=60)
        out = [line async for line in engine.results(report.job_id)]
    finally:
        set_routes([])
    assert {(line["status"], line["provider"]) for line in out} == {("succeeded", "vertex")}


def test_the_vertex_profile() -> None:
    profile = profile_of("vertex")
    assert profile.limits.max_requests == 200_000 and profile.limits.max_bytes == 1_000_000_000
    assert profile.discount == 0.5 and profile.price_provider == "google" and profile.family == "gemini"
    assert provider_for_model("publishers/google/models/gemini-2.5-flash") == ProviderName("vertex")
    assert provider_for_model("gemini-2.5-flash") is ProviderName.GEMINI  # the Developer API keeps neutral ids


async def test_a_refused_token_fails_the_batch_at_once_naming_the_variable(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = await engine.submit(lines(2, provider="vertex"))
    monkeypatch.setenv("CORTHEX_VERTEX_ACCESS_TOKEN", "bad-key")  # the adapter builds its client now
    started = time.monotonic()
    await engine.wait(report.job_id, timeout=10)
    out = [line async for line in engine.results(report.job_id)]
    assert time.monotonic() - started < 10
    assert {line["status"] for line in out} == {"failed"}
    message = out[0]["error"]["message"]
    assert "vertex" in message and "(401)" in message and "CORTHEX_VERTEX_ACCESS_TOKEN" in message
    assert "bad-key" not in message


async def test_vertex_without_its_bucket_is_refused_before_anything_is_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORTHEX_VERTEX_GCS_URI")
    with pytest.raises(SetupError) as refused:
        await engine.submit(lines(1, provider="vertex"))
    assert "CORTHEX_VERTEX_GCS_URI is not set" in str(refused.value)
    assert await engine.jobs() == []


async def test_an_expired_job_keeps_its_rows_and_a_failed_row_says_why(
    engine: Engine, emulator: EmulatorServer
) -> None:
    """The job expires halfway (JOB_STATE_EXPIRED): the rows it ran come back (one failed, its
    `status` text read), the rest are expired."""
    emulator.state.add_fault(Fault("vertex", "create", kind="expire", fraction=0.5, times=1))
    sent = lines(4, provider="vertex")
    sent[0]["prompt"] = f"{ERROR_HOOK} 실패할 요청"
    report = await engine.submit(sent)
    await engine.wait(report.job_id, timeout=60)
    out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    batches = await engine.batches(report.job_id)
    assert {k: v["status"] for k, v in out.items()} == {
        "v0": "failed",
        "v1": "succeeded",
        "v2": "expired",
        "v3": "expired",
    }
    assert out["v0"]["error"]["type"] == "invalid_request" and "Emulated failure" in out["v0"]["error"]["message"]
    assert [b.raw_status for b in batches] == ["JOB_STATE_EXPIRED"]


async def test_gcloud_application_default_credentials_count_as_set_up(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who ran `gcloud auth application-default login` (no variable set) is not refused."""
    monkeypatch.delenv("CORTHEX_VERTEX_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    rows = {r["name"]: r for r in (await Engine.providers(settings, reach=False)).to_dict()["providers"]}
    assert rows["vertex"]["configured"] is False  # no file yet: "… is not set"
    (tmp_path / "gcloud").mkdir()
    (tmp_path / "gcloud" / "application_default_credentials.json").write_text('{"type": "authorized_user"}')
    rows = {r["name"]: r for r in (await Engine.providers(settings, reach=False)).to_dict()["providers"]}
    vertex = rows["vertex"]
    assert vertex["configured"] and vertex["ok"] and vertex["key_variable"] == "gcloud application-default credentials"
