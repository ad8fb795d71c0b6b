"""A provider (or a gateway before it) that answers 401 with an HTML page quoting the key, wrapped
across lines: the key must reach neither the database, nor the `--out` file, nor the logs of
`corthex submit` at DEBUG level (issue 12, items 9 and 10). Real processes, the emulator's
`echo_key` fault."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import orjson
from rel_harness import CORTHEX, EmulatorProcess, worker_env

GEMINI_KEY = "AIzaTEST-Qx7Wv-gem-5e4d3c2b1a0f"
OPENAI_KEY = "sk-test-Qx7Wv-oai-9a8b7c6d5e4f"
MARK = "Qx7Wv"  # in every key, nowhere else


def _everything_in(db: Path) -> str:
    """Every text value of every table, as one string."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(str(row) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"'))


def test_an_echoed_key_is_masked_in_the_store_the_output_and_the_logs(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    emulator_process.add_fault(provider="gemini", op="create", kind="echo_key", status=401)
    emulator_process.add_fault(provider="openai", op="upload", kind="echo_key", status=401)
    lines = [{"custom_id": f"g{i}", "model": "gemini-2.5-flash", "prompt": f"삼성전자 {i}"} for i in range(3)]
    lines += [{"custom_id": f"o{i}", "model": "gpt-5-mini", "prompt": f"현대차 {i}"} for i in range(3)]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    db, out = tmp_path / "c.db", tmp_path / "out.jsonl"
    env = worker_env(
        emulator_process,
        f"sqlite+aiosqlite:///{db}",
        tmp_path,
        CORTHEX_LOG_LEVEL="DEBUG",
        CORTHEX_MAX_ATTEMPTS="2",
        GEMINI_API_KEY=GEMINI_KEY,
        OPENAI_API_KEY=OPENAI_KEY,
    )
    run = subprocess.run(
        [*CORTHEX, "submit", str(source), "--wait", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = [orjson.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in results] == ["failed"] * 6, run.stderr[-2000:]
    # google-genai quotes the page in its error (the OpenAI SDK does not): there, masked
    assert all("API key not valid:\n[redacted]" in r["error"]["message"] for r in results[:3])
    assert emulator_process.stats()["gemini"]["calls"]["create"] >= 1
    for name, text in {
        "the database": _everything_in(db),
        "the --out file": out.read_text(),
        "stdout": run.stdout,
        "stderr (DEBUG logs)": run.stderr,
    }.items():
        assert MARK not in text, f"a key fragment in {name}"
