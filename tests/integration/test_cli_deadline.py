"""`corthex submit --deadline` (issue 17): read as a duration or a timestamp, refused clearly
otherwise, stored on the job and shown by `corthex status`. Through Typer's runner against the
emulator, as a user types it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import orjson
import pytest


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.jsonl"
    lines = [{"custom_id": f"r{i}", "model": "gpt-5-mini", "prompt": f"리뷰 {i} 분류"} for i in range(3)]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    return path


def test_a_deadline_in_hours_is_stored_and_shown(cli, requests_file: Path) -> None:
    before = time.time()
    out = cli("submit", str(requests_file), "--deadline", "1d", "--deadline-margin", "5m")
    job_id = re.search(r"job (job_\w+)", out).group(1)
    shown = orjson.loads(cli("status", job_id, "--json"))
    assert before + 86400 <= shown["deadline"] <= time.time() + 86400
    assert "tiers" in shown and "deadline_cost_usd" in shown


@pytest.mark.parametrize("given", ["tomorrow", "2h30", "-1h", "2020-01-01T00:00:00Z"])
def test_a_deadline_that_cannot_be_read_or_has_passed_is_refused(cli, requests_file: Path, given: str) -> None:
    out = " ".join(cli("submit", str(requests_file), "--deadline", given, code=2).split())
    assert "is neither a duration" in out or "has already passed" in out, out


def test_a_margin_needs_a_deadline(cli, requests_file: Path) -> None:
    assert "needs a deadline" in cli("submit", str(requests_file), "--deadline-margin", "5m", code=2)


def test_a_chain_deadline_is_stored_and_chain_show_says_when_each_step_is_predicted_to_finish(cli) -> None:
    before = time.time()
    out = cli("chain", "run", "삼성전자", "주가", "분석", "--deadline", "1d", "--deadline-margin", "1h")
    chain_id = re.search(r"chain (ch_\w+) started", out).group(1)
    listed = {c["id"]: c for c in orjson.loads(cli("chain", "list", "--json"))}
    assert before + 86400 <= listed[chain_id]["deadline"] <= time.time() + 86400
    shown = cli("chain", "show", chain_id)
    assert "deadline" in shown and "predicted finish" in shown, shown
    assert re.search(r"specialists\s+│\s+batch\s+│\s+pending", shown), shown
    refused = " ".join(cli("chain", "run", "분석", "--deadline", "tomorrow", code=2).split())
    assert "is neither a duration" in refused, refused
