"""Base memory (issue 18): a command loads the provider SDKs it uses and no other (each costs
50-80 MB: anthropic ~81, google-genai ~56, openai ~50). Each test runs a fresh interpreter and
reads its `sys.modules` at the end: what an import in this process would hide (pytest has
loaded them all already)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from corthex.emulator import EmulatorServer
from corthex.testing import fast_env, fast_settings

SDKS = ("openai", "anthropic", "google.genai", "mistralai", "boto3")
#: neither the emulator nor the server nor the table readers belong to a command of the CLI
SERVERS_AND_TABLES = ("corthex.emulator", "corthex.api", "fastapi", "uvicorn", "pandas", "pyarrow")
#: what the engine and the settings bring: `--help` has no use for them
ENGINE = ("corthex.engine.engine", "sqlalchemy", "alembic", "pydantic_settings", "genai_prices")
WATCHED = SDKS + SERVERS_AND_TABLES + ENGINE
MARK = "LOADED:"

#: the end of every script: the watched modules it loaded, on the last line
REPORT = f"""
import json as _json, sys as _sys
print({MARK!r} + _json.dumps([m for m in {WATCHED!r} if m in _sys.modules]))
_sys.exit(globals().get("exit_code") or 0)
"""
CLI = """
import sys
sys.argv = ["corthex", *{args!r}]
from corthex.cli import main
try:
    main()
except SystemExit as exc:
    exit_code = exc.code
"""


def loaded(code: str, env: dict[str, str]) -> set[str]:
    """The watched modules a fresh `python -c CODE` has loaded by its end."""
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert last.startswith(MARK) and done.returncode == 0, (
        f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return set(json.loads(last.removeprefix(MARK)))


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any provider's key, on a fresh database."""
    fast_settings(tmp_path)  # the migrated database
    base = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_AUTH_TOKEN", "_BASE_URL"))}
    own = {"HOME": str(tmp_path), "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/corthex.db"}
    return base | fast_env() | own | {"CORTHEX_DATA_DIR": str(tmp_path / "data")} | extra


def cli(*args: str) -> str:
    return CLI.format(args=list(args))


def test_help_loads_no_sdk_nor_the_engine(tmp_path: Path) -> None:
    found = loaded(cli("--help"), environment(tmp_path))
    assert not found, f"corthex --help loaded {sorted(found)}"


def test_status_and_providers_load_no_sdk_even_with_every_key_set(tmp_path: Path) -> None:
    keys = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "k", "GEMINI_API_KEY": "k", "MISTRAL_API_KEY": "k"}
    env = environment(tmp_path, **keys)
    for args in (["status"], ["providers", "--offline"]):
        found = loaded(cli(*args), env)
        assert not found & set(SDKS + SERVERS_AND_TABLES), f"corthex {' '.join(args)} loaded {sorted(found)}"
        assert "alembic" not in found, "a database at the newest schema is opened without Alembic"


def test_the_newest_migration_read_without_alembic_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from corthex.store.migrate import alembic_config, newest_revision

    assert newest_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_job_on_fake_providers_loads_no_sdk(tmp_path: Path) -> None:
    code = f"""
import asyncio
from pathlib import Path
from corthex.domain.requests import ProviderName
from corthex.engine.engine import Engine
from corthex.testing.fake import FakeProvider, fake_providers
from corthex.testing.settings import FAKE_PACE, fast_settings

async def job():
    providers = fake_providers(openai=FakeProvider(ProviderName.OPENAI))
    async with Engine(fast_settings(Path({str(tmp_path)!r}), **FAKE_PACE), providers=providers) as engine:
        report = await engine.submit([{{"custom_id": "하나", "model": "gpt-5-mini", "prompt": "안녕"}}])
        assert (await engine.wait(report.job_id, timeout=30)).succeeded == 1

asyncio.run(job())
"""
    found = loaded(code, environment(tmp_path))
    assert not found & set(SDKS), f"a job on fake providers loaded {sorted(found)}"


def test_a_worker_with_one_key_preloads_that_providers_sdk_only(tmp_path: Path) -> None:
    code = f"""
import asyncio
from pathlib import Path
from corthex.engine.engine import Engine
from corthex.testing.settings import fast_settings

async def start_and_stop():
    stop = asyncio.Event()
    stop.set()  # the loop ends at once: what is left loaded is the preload's
    async with Engine(fast_settings(Path({str(tmp_path)!r}))) as engine:
        await engine.run(stop)

asyncio.run(start_and_stop())
"""
    found = loaded(code, environment(tmp_path, OPENAI_API_KEY="sk-test"))
    assert "openai" in found, "the worker no longer preloads the configured provider's SDK"
    assert not found & {"anthropic", "google.genai", "mistralai", "boto3"}, f"the worker loaded {sorted(found)}"


def test_an_openai_job_against_the_emulator_loads_the_openai_sdk_only(tmp_path: Path, emulator: EmulatorServer) -> None:
    emulator.state.reset()
    requests = tmp_path / "openai.jsonl"
    lines = [{"custom_id": f"r{i}", "model": "gpt-5-mini", "prompt": f"요약 {i}"} for i in range(3)]
    requests.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    env = environment(tmp_path) | emulator.env()
    found = loaded(cli("submit", str(requests), "--wait"), env)
    assert "openai" in found
    assert not found & {"anthropic", "google.genai", "mistralai", "boto3"}, f"an OpenAI job loaded {sorted(found)}"
    assert not found & set(SERVERS_AND_TABLES), f"an OpenAI job loaded {sorted(found)}"
