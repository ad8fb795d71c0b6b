"""`corthex cancel` as a user runs it (issue 16, item 3): real processes, the emulator as a process
slowed down so that the batches are still running at the provider when the cancel comes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import orjson
import pytest

from corthex.testing import EmulatorProcess, wait_until_sync

CORTHEX = [sys.executable, "-m", "corthex"]
RUNNING = {"openai": {"validating", "in_progress", "finalizing"}, "anthropic": {"in_progress"}}


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`corthex emulator` at speed 100 in its own process: a batch runs for about a minute."""
    emulator = EmulatorProcess(tmp_path_factory.mktemp("emulator") / "emulator.log", speed=100)
    yield emulator.env()
    emulator.stop()


def corthex(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        **env,
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        "CORTHEX_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    out = subprocess.run([*CORTHEX, *args], env=full, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def remote_states(env: dict[str, str]) -> dict[str, list[str]]:
    """Every batch the emulator holds, by provider: its status as the provider's SDK reads it."""
    oai = openai.OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env["OPENAI_API_KEY"])
    ant = anthropic.Anthropic(base_url=env["ANTHROPIC_BASE_URL"], api_key=env["ANTHROPIC_API_KEY"])
    try:
        return {
            "openai": [b.status for b in oai.batches.list()],
            "anthropic": [b.processing_status for b in ant.messages.batches.list()],
        }
    finally:
        oai.close()
        ant.close()


def test_a_cancel_right_after_submission_stops_every_batch_and_says_what_it_stopped(
    slow_emulator: dict[str, str], tmp_path: Path
) -> None:
    lines = [
        {"custom_id": f"review-{i}", "model": ("gpt-5-mini", "claude-haiku-4-5")[i % 2], "prompt": f"리뷰 {i}: 좋아요"}
        for i in range(500)
    ]
    (tmp_path / "reviews.jsonl").write_text("".join(orjson.dumps(x).decode() + "\n" for x in lines))
    submitted = corthex(slow_emulator, tmp_path, "submit", "reviews.jsonl")
    job = re.search(r"job (job_[0-9a-f]+)", submitted.stdout).group(1)
    states = remote_states(slow_emulator)
    assert any(s in RUNNING[p] for p, found in states.items() for s in found), states  # running at the provider

    canceled = corthex(slow_emulator, tmp_path, "cancel", job)
    assert f"job {job}: canceled — 500 canceled, 0 already done; 2 batches stopped" in canceled.stdout

    def nothing_running() -> bool:
        states = remote_states(slow_emulator)
        return not any(s in RUNNING[p] for p, found in states.items() for s in found)

    wait_until_sync(nothing_running, within=10, what="every batch canceled at the emulator")
    with sqlite3.connect(tmp_path / "c.db") as db:
        by_status = dict(db.execute("SELECT status, count(*) FROM results GROUP BY status").fetchall())
    assert by_status == {"canceled": 500}


def test_a_chain_is_canceled_and_run_again_from_the_command_line(slow_emulator: dict[str, str], tmp_path: Path) -> None:
    started = corthex(slow_emulator, tmp_path, "chain", "삼성전자 주가를 분석해 줘")
    chain = re.search(r"chain (ch_[0-9a-f]+) started", started.stdout).group(1)
    stopped = corthex(slow_emulator, tmp_path, "chain", "cancel", chain)
    assert f"chain {chain} canceled: 1 canceled, 0 already done" in stopped.stdout
    wait_until_sync(lambda: not any(s in RUNNING["openai"] for s in remote_states(slow_emulator)["openai"]), within=10)
    again = corthex(slow_emulator, tmp_path, "chain", "rerun", chain)
    new = re.search(r"chain (ch_[0-9a-f]+) started \(runs (ch_[0-9a-f]+) again\)", again.stdout)
    assert new is not None and new.group(2) == chain and new.group(1) != chain
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = dict(db.execute("SELECT id, status FROM chains").fetchall())
        linked = db.execute("SELECT rerun_of FROM chains WHERE id = ?", (new.group(1),)).fetchone()
    assert rows == {chain: "canceled", new.group(1): "running"} and linked == (chain,)
