"""Issue 16 items 1 and 6: a setup mistake ends the command within seconds with its fix in one
line, before anything is stored; `corthex doctor` shows the whole picture; an unknown model is
a warning with "did you mean", an error with --strict-models. Real `corthex` processes with a
clean environment, against the emulator in its own process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from corthex.testing import EmulatorProcess

CORTHEX = [sys.executable, "-m", "corthex"]
LIMIT_S = 10.0  #: every setup mistake ends within this

REQUESTS = [
    {"custom_id": "q1", "model": "gpt-5-mini", "prompt": "이 리뷰를 긍정/부정으로 분류해 주세요"},
    {"custom_id": "q2", "model": "claude-sonnet-4-6", "prompt": "분기 실적을 세 줄로 요약해 주세요"},
    {"custom_id": "q3", "model": "claude-haiku-4-5", "prompt": "오늘 일정 알려줘"},
    {"custom_id": "q4", "model": "gemini-2.5-flash", "prompt": "삼성전자 주가 분석"},
]


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess(tmp_path_factory.mktemp("emu") / "emulator.log", speed=0.02)
    yield emulator
    emulator.stop()


@pytest.fixture
def clean_env(emulator_process: EmulatorProcess, tmp_path: Path) -> dict[str, str]:
    """No variable of the test runner's own: only what a user would set."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        "CORTHEX_DATA_DIR": str(tmp_path / "data"),
        "CORTHEX_POLL_INITIAL": "0.05",
        "CORTHEX_POLL_MAX": "0.3",
        "COLUMNS": "250",
        **emulator_process.env(),
    }


def corthex(env: dict[str, str], cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    out = subprocess.run([*CORTHEX, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    return out, time.monotonic() - started


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(orjson.dumps(r).decode() + "\n" for r in rows), encoding="utf-8")
    return path


def nothing_stored(tmp_path: Path) -> bool:
    database = tmp_path / "c.db"
    if not database.exists():
        return True
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def mistakes(emulator: EmulatorProcess) -> dict[str, tuple[dict[str, str | None], str]]:
    """mistake -> (the variables that make it, the message expected on stderr)."""
    url = emulator.url
    return {
        "no key": (
            {"ANTHROPIC_API_KEY": None},
            "ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN is not set: export one, or drop the 2 anthropic requests",
        ),
        "emulator not running": (
            {"OPENAI_BASE_URL": "http://127.0.0.1:9/openai/v1"},
            "cannot reach http://127.0.0.1:9/openai/v1 — is `corthex emulator` running?",
        ),
        "base URL without /v1": (
            {"OPENAI_BASE_URL": f"{url}/openai"},
            f"{url}/openai answered 404: is OPENAI_BASE_URL missing /v1? (e.g. OPENAI_BASE_URL={url}/openai/v1)",
        ),
        "misspelt variable": (
            {"GOOGLE_GEMINI_BASE_URL": None, "GEMINI_BASE_URL": f"{url}/gemini"},
            "GEMINI_BASE_URL is set but the google-genai SDK reads GOOGLE_GEMINI_BASE_URL: rename it",
        ),
        "key refused (401)": (
            {"ANTHROPIC_API_KEY": "bad-key"},
            "anthropic refused the key in ANTHROPIC_API_KEY (401): check the key",
        ),
        "Gemini key refused (400 API_KEY_INVALID)": (
            {"GEMINI_API_KEY": "bad-key"},
            "gemini refused the key in GEMINI_API_KEY (400): check the key",
        ),
        "unknown host": (
            {"OPENAI_BASE_URL": "http://no-such-host.invalid/v1"},
            "unknown host 'no-such-host.invalid' in http://no-such-host.invalid/v1: check OPENAI_BASE_URL",
        ),
    }


MISTAKES = [
    "no key",
    "emulator not running",
    "base URL without /v1",
    "misspelt variable",
    "key refused (401)",
    "Gemini key refused (400 API_KEY_INVALID)",
    "unknown host",
]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_setup_mistake_stops_submit_at_once_with_its_fix(
    mistake: str, emulator_process: EmulatorProcess, clean_env: dict[str, str], tmp_path: Path
) -> None:
    changes, message = mistakes(emulator_process)[mistake]
    env = {k: v for k, v in {**clean_env, **changes}.items() if v is not None}
    out, seconds = corthex(env, tmp_path, "submit", str(write(tmp_path / "in.jsonl", REQUESTS)), "--wait")
    print(f"setup mistake | {mistake} | {out.stderr.strip()} | {seconds:.1f} s")
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and out.stderr.strip().endswith("nothing submitted"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr and "bad-key" not in out.stderr
    assert seconds < LIMIT_S
    assert nothing_stored(tmp_path)


def test_doctor_shows_keys_present_never_their_values(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "OPENAI_API_KEY": "sk-test-0123456789abcdef"}
    out, seconds = corthex(env, tmp_path, "doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OPENAI_API_KEY set" in out.stdout and "all set" in out.stdout
    assert "0123456789" not in out.stdout and "sk-test" not in out.stdout
    report = orjson.loads(corthex(env, tmp_path, "doctor", "--json")[0].stdout)
    assert report["ok"] is True and {p["provider"]: p["reachable"] for p in report["providers"]} == {
        "openai": True,
        "anthropic": True,
        "gemini": True,
        "vertex": True,  # the emulator's /vertex (its probe lists jobs; no Cloud Storage needed)
        "mistral": True,  # its probe: GET /v1/models under MISTRAL_BASE_URL
        "groq": True,  # the shipped OpenAI-compatible servers, on the emulator's profiles of them
        "deepinfra": True,
        "azure": True,  # the emulator's Azure profile (AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION)
        "bedrock": None,  # not set up: this emulator runs without its local S3 (--no-s3)
    }
    assert "sk-test" not in orjson.dumps(report).decode()
    assert report["versions"]["openai"] and report["database"]["ok"] is True
    assert seconds < LIMIT_S


def test_doctor_exits_1_naming_each_problem(
    emulator_process: EmulatorProcess, clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **clean_env,
        "OPENAI_BASE_URL": f"{emulator_process.url}/openai",
        "ANTHROPIC_API_KEY": "bad-key",
        "CORTHEX_DATABASE_URL": "postgresql+asyncpg://corthex:s3cret-pw@127.0.0.1:9/corthex",
    }
    out, seconds = corthex(env, tmp_path, "doctor", "--json")
    assert out.returncode == 1, out.stdout + out.stderr
    report = orjson.loads(out.stdout)
    problems = {p["provider"]: p["problem"] for p in report["providers"]}
    assert "is OPENAI_BASE_URL missing /v1?" in problems["openai"]
    assert "refused the key in ANTHROPIC_API_KEY (401)" in problems["anthropic"]
    assert problems["gemini"] is None
    assert report["database"]["ok"] is False and "s3cret-pw" not in out.stdout and "***" in report["database"]["url"]
    assert seconds < LIMIT_S


def test_an_unknown_model_is_a_warning_with_did_you_mean(clean_env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        {"custom_id": "t1", "model": "gpt-5-mnii", "prompt": "이 문장을 영어로 번역해 주세요"},
        {"custom_id": "t2", "model": "claude-sonet-4", "prompt": "리뷰 5,000건을 분류해 주세요"},
        {"custom_id": "t3", "model": "gpt-5-mini", "prompt": "요약해 주세요"},
    ]
    out, _ = corthex(clean_env, tmp_path, "submit", str(write(tmp_path / "typos.jsonl", rows)))
    assert out.returncode == 0, out.stderr
    assert "warning: request 't1': model 'gpt-5-mnii' is not a known openai model: did you mean 'gpt-5-mini'" in (
        out.stderr
    )
    assert "warning: request 't2': model 'claude-sonet-4' is not a known anthropic model: did you mean" in out.stderr
    assert "'claude-sonnet-4'" in out.stderr


def test_strict_models_refuses_an_unknown_model_naming_the_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        {"custom_id": "t1", "model": "gpt-5-mini", "prompt": "요약해 주세요"},
        {"custom_id": "t2", "model": "gpt-5-mnii", "prompt": "이 문장을 영어로 번역해 주세요"},
        {"custom_id": "t3", "model": "claude-sonet-4", "prompt": "리뷰를 분류해 주세요"},
    ]
    path = write(tmp_path / "typos.jsonl", rows)
    out, _ = corthex(clean_env, tmp_path, "submit", str(path), "--strict-models")
    assert out.returncode == 2, out.stderr
    assert "typos.jsonl line 2, field 'model': model 'gpt-5-mnii' is not a known openai model: did you mean" in (
        out.stderr
    )
    assert "typos.jsonl line 3, field 'model': model 'claude-sonet-4' is not a known anthropic model" in out.stderr
    assert nothing_stored(tmp_path)


# --- the worker: a setup error met while sending ends the batch at once -----------------------


async def _failed_at_once(engine, emulator, monkeypatch, variable: str, value: str):  # noqa: ANN001, ANN202
    """Submit (the setup is right then), break `variable` before the batches are created, and
    wait: every request of that provider fails within seconds, the others succeed."""
    report = await engine.submit(REQUESTS)
    monkeypatch.setenv(variable, value)  # the adapters build their clients on first use: now
    started = time.monotonic()
    summary = await engine.wait(report.job_id, timeout=LIMIT_S)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    return summary, lines, time.monotonic() - started


async def test_a_key_refused_while_sending_fails_its_requests_after_one_try(
    engine, emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, lines, seconds = await _failed_at_once(engine, emulator, monkeypatch, "ANTHROPIC_API_KEY", "bad-key")
    assert seconds < LIMIT_S and summary.status.is_final
    assert {k: v["status"] for k, v in lines.items()} == {
        "q1": "succeeded",
        "q2": "failed",
        "q3": "failed",
        "q4": "succeeded",
    }
    message = lines["q2"]["error"]["message"]
    assert "anthropic create failed (401)" in message and "invalid x-api-key" in message
    assert message.endswith("— check ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN") and "bad-key" not in message
    assert emulator.state.counters.calls["anthropic"].get("create") == 1  # not retried: asking again cannot help


async def test_an_unknown_host_while_sending_fails_at_once_never_looked_for(
    engine, emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, lines, seconds = await _failed_at_once(
        engine, emulator, monkeypatch, "OPENAI_BASE_URL", "http://no-such-host.invalid/v1"
    )
    assert seconds < LIMIT_S and lines["q1"]["status"] == "failed"
    assert (
        "unknown host" in lines["q1"]["error"]["message"] and "check OPENAI_BASE_URL" in lines["q1"]["error"]["message"]
    )
    assert lines["q2"]["status"] == "succeeded"


async def test_a_404_on_create_fails_at_once(engine, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from corthex.emulator import Fault

    emulator.state.add_fault(Fault("gemini", "create", kind="http", status=404))
    report = await engine.submit(REQUESTS)
    summary = await engine.wait(report.job_id, timeout=LIMIT_S)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert lines["q4"]["status"] == "failed" and emulator.state.counters.calls["gemini"].get("create") == 1
    assert lines["q1"]["status"] == "succeeded"
    assert summary.status.is_final
