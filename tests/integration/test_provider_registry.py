"""Providers as plugins (issue 15): the registry, OpenAI-compatible servers from configuration
(the shipped Groq entry and a user's own server from CORTHEX_PROVIDERS_FILE), routes, a
third-party plugin found through its entry point, and the refusals. Jobs run through the
engine with the real OpenAI adapter against the emulator's profiles of the servers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest

from corthex.config import Settings
from corthex.domain.registry import ProviderName, profile_of, provider_for_model, set_routes
from corthex.emulator.server import EmulatorServer
from corthex.engine.engine import Engine
from corthex.errors import SetupError, UsageError
from corthex.providers.registry import load_providers
from corthex.testing import fast_settings

KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    yield
    set_routes([])  # no test's routes leak into the next
    load_providers(None, force=True)


def providers_file(tmp_path: Path, emulator: EmulatorServer, routes: str = "") -> Path:
    """A user's own server: the emulator's DeepInfra profile under another name."""
    path = tmp_path / "providers.toml"
    path.write_text(
        f"""
[providers.mylab]
title = "사내 GPU 서버"
base_url = "{emulator.url}/compat/deepinfra/openai/v1"
key_variable = "MYLAB_API_KEY"
discount = 0.4
models = ["mylab-"]
max_requests = 2
{routes}
""",
        encoding="utf-8",
    )
    return path


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_provider_names_are_interned_strings() -> None:
    load_providers(None)  # what an Engine does when it opens
    assert ProviderName("openai") is ProviderName.OPENAI and ProviderName.OPENAI == "openai"
    assert provider_for_model("gpt-5-mini") is ProviderName.OPENAI
    assert provider_for_model("llama-3.3-70b-versatile") is None  # shipped servers own no model: by name or route
    assert profile_of("groq").discount == 0.25 and profile_of("groq").limits.max_bytes == 100_000_000


def test_a_route_sends_a_model_to_a_configured_server(tmp_path: Path, emulator: EmulatorServer) -> None:
    load_providers(providers_file(tmp_path, emulator, '[routes]\n"gpt-5-mini*" = "mylab"\n'), force=True)
    assert provider_for_model("gpt-5-mini") == "mylab"  # the route wins over OpenAI's prefix
    assert provider_for_model("gpt-5") is ProviderName.OPENAI
    assert provider_for_model("mylab-7b") == "mylab"  # the server's own prefix


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[providers.x]\nkey_variable = "X_KEY"\n', "[providers.x]: 'base_url' is required"),
        ('[providers.x]\nbase_url = "http://h/v1"\nkey_variable = "K"\nspeed = 2\n', "unknown field 'speed'"),
        ('[providers.x]\nbase_url = "http://h/v1"\nkey_variable = "K"\ndiscount = 1.5\n', "'discount' must be"),
        ('[providers.openai]\nbase_url = "http://h/v1"\nkey_variable = "K"\n', "a built-in provider's name"),
        ('[routes]\n"gpt-*" = "nowhere"\n', "unknown provider 'nowhere'"),
        ("[providers.x\n", "not valid TOML"),
    ],
)
def test_a_wrong_providers_file_names_the_file_and_the_field(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match="p.toml") as caught:
        load_providers(path, force=True)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_groq_profile_keeps_its_own_files_and_windows(emulator: EmulatorServer) -> None:
    groq = openai.OpenAI(base_url=f"{emulator.url}/compat/groq/openai/v1", api_key="k")
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "llama-3.3-70b"}}
    upload = groq.files.create(file=("b.jsonl", orjson.dumps(line) + b"\n"), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="completion_window"):
        groq.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="48h")
    batch = groq.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    own = openai.OpenAI(base_url=f"{emulator.url}/openai/v1", api_key="k")
    assert batch.id in {b.id for b in groq.batches.list()}
    assert batch.id not in {b.id for b in own.batches.list()}  # another host: another store


async def test_a_mixed_korean_job_over_openai_groq_and_a_configured_server(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    settings = fast_settings(tmp_path, providers_file=providers_file(tmp_path, emulator))
    os.environ["MYLAB_API_KEY"] = "emulator-mylab-key"
    try:
        async with Engine(settings) as engine:
            lines = [
                {"custom_id": "o", "model": "gpt-5-mini", "prompt": KOREAN},
                {"custom_id": "g", "provider": "groq", "model": "llama-3.3-70b-versatile", "prompt": KOREAN},
                *({"custom_id": f"m{i}", "model": "mylab-7b", "prompt": f"{KOREAN} {i}"} for i in range(3)),
            ]
            report = await engine.submit_file(jsonl(tmp_path / "in.jsonl", lines))
            await engine.wait(report.job_id, timeout=60)
            out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
            batches = await engine.batches(report.job_id)
    finally:
        del os.environ["MYLAB_API_KEY"]
    assert {k: (v["status"], v["provider"]) for k, v in out.items()} == {
        "o": ("succeeded", "openai"),
        "g": ("succeeded", "groq"),
        **{f"m{i}": ("succeeded", "mylab") for i in range(3)},
    }
    assert all(line["content"] for line in out.values())
    assert sorted(b.provider for b in batches) == ["groq", "mylab", "mylab", "openai"]  # mylab: 2 a batch
    assert out["g"]["cost_usd"] > 0  # genai-prices prices Groq's models; 25% off


async def test_a_server_without_its_key_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    os.environ.pop("DEEPINFRA_API_KEY", None)
    line = {"custom_id": "d", "provider": "deepinfra", "model": "meta-llama/Llama-3.3-70B", "prompt": KOREAN}
    async with Engine(fast_settings(tmp_path)) as engine:
        with pytest.raises(SetupError, match="DEEPINFRA_API_KEY is not set") as caught:
            await engine.submit_file(jsonl(tmp_path / "in.jsonl", [line]))
        assert "the 1 deepinfra request (meta-llama/Llama-3.3-70B, the first 'd')" in str(caught.value)
        assert await engine.jobs() == []


def test_a_third_party_plugin_is_found_through_its_entry_point(tmp_path: Path, emulator: EmulatorServer) -> None:
    """The example package of docs/providers.md, installed as pip would (a dist-info with its
    entry point on the path), and listed by `corthex providers` in a real process."""
    site = tmp_path / "site"
    (site / "acme_batch").mkdir(parents=True)
    (site / "acme_batch" / "__init__.py").write_text(ACME_PLUGIN, encoding="utf-8")
    dist = site / "acme_batch-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-batch\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[corthex.providers]\nacme = acme_batch:PROFILE\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    env |= {"ACME_API_KEY": "k", "ACME_BASE_URL": f"{emulator.url}/compat/groq/openai/v1"}
    out = subprocess.run(
        [sys.executable, "-m", "corthex", "providers", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode in (0, 1), out.stderr
    rows = {row["name"]: row for row in orjson.loads(out.stdout)["providers"]}
    assert rows["acme"]["source"] == "plugin acme_batch:PROFILE" and rows["acme"]["models"] == ["acme-"]
    assert rows["acme"]["configured"] and rows["acme"]["reachable"] is True and rows["acme"]["ok"]
    assert {"openai", "anthropic", "gemini", "groq", "deepinfra"} <= set(rows)


ACME_PLUGIN = """
from corthex.domain.registry import ProviderLimits, ProviderName, ProviderProfile, WireFamily

PROFILE = ProviderProfile(
    name=ProviderName("acme"),
    family=WireFamily.OPENAI,
    title="Acme Batch",
    limits=ProviderLimits(50_000, 200_000_000, True, 200_000_000),
    adapter="corthex.providers.openai:OpenAIProvider",
    wire_module="corthex.providers.wire.openai",
    model_prefixes=("acme-",),
    key_variables=("ACME_API_KEY",),
    base_url_variable="ACME_BASE_URL",
    base_url="https://api.acme.example/v1",
)
"""


def test_settings_read_the_providers_file_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORTHEX_PROVIDERS_FILE", str(tmp_path / "p.toml"))
    assert Settings().providers_file == tmp_path / "p.toml"


async def test_a_fallback_provider_is_set_up_before_anything_is_stored(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    os.environ.pop("DEEPINFRA_API_KEY", None)
    path = providers_file(tmp_path, emulator, '[routes]\n"gpt-5-mini*" = ["openai", "deepinfra"]\n')
    line = {"custom_id": "o", "model": "gpt-5-mini", "prompt": KOREAN}
    async with Engine(fast_settings(tmp_path, providers_file=path)) as engine:
        with pytest.raises(SetupError, match="DEEPINFRA_API_KEY is not set"):
            await engine.submit_file(jsonl(tmp_path / "in.jsonl", [line]))
        assert await engine.jobs() == []


def test_a_wrong_route_stops_the_cli_in_one_line_as_written(tmp_path: Path) -> None:
    """The message keeps its "[routes]" (Rich would read it as markup and drop it)."""
    path = tmp_path / "p.toml"
    path.write_text('[routes]\n"gpt-*" = ["openai", "anthropic"]\n', encoding="utf-8")
    env = {**os.environ, "CORTHEX_PROVIDERS_FILE": str(path)}
    out = subprocess.run(
        [sys.executable, "-m", "corthex", "providers", "--offline"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{path}: [routes] route 'gpt-*'" in out.stderr and "mixes request formats" in out.stderr
