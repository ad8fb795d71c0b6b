"""The command line as a user runs it: real processes, one database, the emulator as a process."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from corthex.testing import free_port, wait_until_sync

CORTHEX = [sys.executable, "-m", "corthex"]


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[dict[str, str]]:
    """`corthex emulator --port P` in its own process; its printed lines are the environment."""
    port = free_port()
    proc = subprocess.Popen(
        [*CORTHEX, "emulator", "--port", str(port), "--speed", "0.02"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    env = {}
    for _ in range(6):
        key, _, value = proc.stdout.readline().strip().removeprefix("export ").partition("=")
        env[key] = value
    _wait_for_port(port)
    yield env
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def _wait_for_port(port: int) -> None:
    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_until_sync(listening, within=20, what="the emulator to listen")


@pytest.fixture
def run(emulator_process: dict[str, str], tmp_path: Path):  # noqa: ANN201 - returns the runner
    env = {
        **os.environ,
        **emulator_process,
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        "CORTHEX_DATA_DIR": str(tmp_path / "data"),
        "CORTHEX_POLL_INITIAL": "0.05",
        "CORTHEX_POLL_MAX": "0.3",
        "COLUMNS": "200",
    }

    def runner(*args: str, ok: bool = True, **more_env: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [*CORTHEX, *args], env={**env, **more_env}, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert out.returncode == 0, out.stderr
        return out

    return runner


def write(path: Path, lines: list[dict[str, object] | str]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else orjson.dumps(x).decode()) + "\n" for x in lines))
    return path


MIXED = [
    {"custom_id": f"r{i}", "model": m, "prompt": f"question {i}"}
    for i, m in enumerate(["gpt-5-mini", "claude-sonnet-4-6", "gemini-2.5-flash"] * 3)
]


def test_emulator_prints_the_sdk_variables(emulator_process: dict[str, str]) -> None:
    assert set(emulator_process) == {
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "GOOGLE_GEMINI_BASE_URL",
        "GEMINI_API_KEY",
    }
    assert emulator_process["OPENAI_BASE_URL"].endswith("/openai/v1")


def test_submit_wait_writes_one_line_per_request(run, tmp_path: Path) -> None:
    out = run("submit", str(write(tmp_path / "in.jsonl", MIXED)), "--wait", "--out", str(tmp_path / "out.jsonl"))
    assert "completed" in out.stdout and "9 results written" in out.stdout
    assert "EMULATOR" in out.stdout and "openai" in out.stdout.split("EMULATOR")[1]  # never taken for real answers
    lines = [orjson.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == [f"r{i}" for i in range(9)]
    assert {x["provider"] for x in lines} == {"openai", "anthropic", "gemini"}
    assert all(x["status"] == "succeeded" and x["usage"]["output_tokens"] > 0 for x in lines)


def test_a_later_process_follows_and_collects_the_job(run, tmp_path: Path) -> None:
    out = run("submit", str(write(tmp_path / "in.jsonl", MIXED)))
    job = re.search(r"job (job_[0-9a-f]+)", out.stdout).group(1)
    wait_until_sync(lambda: "completed" in run("status", job).stdout, within=60, what=f"{job} completed", every=0.3)
    assert job in run("status").stdout
    run("results", job, "--out", str(tmp_path / "r.jsonl"))
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 9
    stdout_lines = run("results", job).stdout.splitlines()
    assert orjson.loads(stdout_lines[0])["custom_id"] == "r0"


def test_queue_add_list_flush(run, tmp_path: Path) -> None:
    added = run("queue", "add", str(write(tmp_path / "q.jsonl", MIXED)))
    job = re.search(r"job (job_[0-9a-f]+)", added.stdout).group(1)
    assert "9 requests queued" in added.stdout
    assert job in run("queue", "list").stdout
    assert "9 requests sent" in run("flush").stdout
    assert "queue: 0 requests" in run("queue", "list").stdout


def test_status_is_a_read_that_never_sends_the_queue(run, tmp_path: Path) -> None:
    """Issue 13: `status` ran a worker's round, which auto-flushed a queue that was due."""
    added = run("queue", "add", str(write(tmp_path / "q.jsonl", MIXED)))
    job = re.search(r"job (job_[0-9a-f]+)", added.stdout).group(1)
    due = {"CORTHEX_QUEUE_MAX_AGE": "0"}  # a worker's round would send it now
    assert "queued" in run("status", job, **due).stdout
    assert "queue: 9 requests" in run("queue", "list").stdout


def test_cancel(run, tmp_path: Path) -> None:
    added = run("queue", "add", str(write(tmp_path / "q.jsonl", MIXED)))
    job = re.search(r"job (job_[0-9a-f]+)", added.stdout).group(1)
    assert "canceled" in run("cancel", job).stdout
    assert "canceled" in run("status", job).stdout
    again = run("cancel", job)
    assert again.returncode == 0 and f"job {job} is already canceled: nothing to cancel" in again.stdout


def test_bad_file_is_refused_naming_lines_and_nothing_is_submitted(run, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.jsonl",
        [
            MIXED[0],
            '{"custom_id": "x", "model": ',
            MIXED[0],
            {"custom_id": "y", "model": "falcon-40b", "prompt": "p"},
        ],
    )
    out = run("submit", str(bad), ok=False)
    assert out.returncode == 2
    assert "bad.jsonl line 2: invalid JSON" in out.stderr
    assert "bad.jsonl line 3, field 'custom_id': duplicate custom_id 'r0'" in out.stderr
    assert "bad.jsonl line 4, field 'model': no provider serves model 'falcon-40b'" in out.stderr
    assert "job_" not in run("status").stdout


def test_skip_invalid_reports_the_skipped_lines(run, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.jsonl", [*MIXED[:3], '{"custom_id": "x"}'])
    out = run("submit", str(bad), "--skip-invalid", "--wait")
    assert "skipped line 4, field 'model': missing 'model'" in out.stderr
    assert "1 invalid line(s) skipped" in out.stderr and "completed" in out.stdout


def test_empty_file_is_refused(run, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    out = run("submit", str(tmp_path / "empty.jsonl"), ok=False)
    assert out.returncode == 2 and "empty" in out.stderr


def test_unknown_job_is_a_clear_error(run) -> None:
    out = run("status", "job_000000000000", ok=False)
    assert out.returncode == 2 and "no job with id 'job_000000000000'" in out.stderr


def test_submit_prints_the_warnings(run, tmp_path: Path) -> None:
    """A temperature the model refuses is left out, and the CLI says so (issue 11 item 5)."""
    path = write(tmp_path / "warm.jsonl", [{"custom_id": "w", "model": "o3", "prompt": "안녕", "temperature": 0.2}])
    out = run("submit", str(path))
    assert "warning: request 'w': 'temperature' is not sent to o3" in out.stderr


def test_a_cp949_file_is_refused_then_read_with_encoding(run, tmp_path: Path) -> None:
    rows = [
        {"custom_id": f"k{i}", "model": m, "prompt": f"분기 실적 요약 {i}"} for i, m in enumerate(["gpt-5-mini"] * 2)
    ]
    path = tmp_path / "korean.jsonl"
    path.write_bytes("".join(orjson.dumps(r).decode() + "\n" for r in rows).encode("cp949"))
    refused = run("submit", str(path), ok=False)
    assert refused.returncode == 2 and "korean.jsonl line 1: not UTF-8 text" in refused.stderr
    assert "--encoding cp949" in refused.stderr and "job_" not in run("status").stdout
    out = run("submit", str(path), "--encoding", "cp949", "--wait", "--out", str(tmp_path / "out.jsonl"))
    assert "2 results written" in out.stdout


@pytest.mark.parametrize(
    ("variable", "value"), [("CORTHEX_TIMEZONE", "Mars/Olympus"), ("ANTHROPIC_BASE_URL", "http://[::1")]
)
def test_a_bad_setting_stops_the_command_before_anything_is_stored(
    variable: str, value: str, emulator_process: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **emulator_process,
        variable: value,
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
    }
    path = write(tmp_path / "in.jsonl", MIXED)
    out = subprocess.run(
        [*CORTHEX, "submit", str(path)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (
        out.returncode == 2
        and f"error: {'bad setting: ' if variable.startswith('CORTHEX') else ''}{variable}=" in out.stderr
    )
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (tmp_path / "c.db").exists()


def test_requests_a_provider_would_refuse_are_refused_before_anything_is_stored(run, tmp_path: Path) -> None:
    """Issue 12 item 12: each went into the store and out to the provider, to be refused there."""
    bad = write(
        tmp_path / "refused.jsonl",
        [
            MIXED[0],
            {"custom_id": "a", "model": "gpt-4o", "provider": "anthropic", "prompt": "요약해 주세요"},
            {"custom_id": "b", "model": "claude-haiku-4-5", "prompt": "요약해 주세요", "max_tokens": 200_000},
            {"custom_id": "c", "model": "claude-haiku-4-5", "prompt": "요약해 주세요", "temperature": 1.5},
            {"custom_id": "d", "model": "claude-haiku-4-5", "messages": [{"role": "assistant", "content": "네"}]},
            {"custom_id": "e", "model": "gpt-4o", "prompt": "p", "json_schema": {"type": "object", "$ref": "#/x"}},
        ],
    )
    out = run("submit", str(bad), ok=False)
    assert out.returncode == 2, out.stderr
    assert "refused.jsonl line 2, field 'provider': model 'gpt-4o' is served by openai, not anthropic" in out.stderr
    assert "refused.jsonl line 3, field 'max_tokens': 200,000 is over claude-haiku-4-5's largest output" in out.stderr
    assert (
        "refused.jsonl line 4, field 'temperature': 'temperature' must be between 0 and 1 for anthropic" in out.stderr
    )
    assert "refused.jsonl line 5, field 'messages[0]': Anthropic takes a conversation only when its first" in out.stderr
    assert "refused.jsonl line 6, field 'json_schema':" in out.stderr and "'#/x' points to nothing" in out.stderr
    database = tmp_path / "c.db"
    if database.exists():  # the store may be created empty: it must stay empty
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM requests").fetchone() == (0,)
    assert "job_" not in run("status").stdout


def test_a_csv_of_reviews_becomes_a_labeled_parquet(run, tmp_path: Path) -> None:
    """Issue 14's table path as a user runs it: a Korean CSV, a template, a schema, Parquet out."""
    import pyarrow.parquet as pq

    reviews = tmp_path / "reviews.csv"
    reviews.write_text('id,text\nr1,배송이 빨라요\nr2,"포장이, 엉망이에요"\nr3,그저 그래요\n', encoding="utf-8")
    schema = tmp_path / "label.json"
    schema.write_text('{"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}')
    out = run(
        "submit",
        str(reviews),
        "--model",
        "gpt-5-mini",
        "--prompt",
        "이 리뷰를 분류하세요: {text}",
        "--schema",
        str(schema),
        "--id-column",
        "id",
        "--wait",
        "--out",
        str(tmp_path / "labeled.parquet"),
    )
    assert "3 results written" in out.stdout
    rows = pq.read_table(tmp_path / "labeled.parquet").to_pylist()
    assert [(r["id"], r["text"], r["status"]) for r in rows] == [
        ("r1", "배송이 빨라요", "succeeded"),
        ("r2", "포장이, 엉망이에요", "succeeded"),
        ("r3", "그저 그래요", "succeeded"),
    ]
    assert all(isinstance(r["label"], str) and r["label"] for r in rows)


def test_the_readme_dataframe_example_labels_korean_reviews(emulator_process: dict[str, str], tmp_path: Path) -> None:
    """README's "Tables from Python" as a user runs it: a pandas DataFrame in, a labeled one out."""
    pytest.importorskip("pandas")
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("#### Tables from Python") :]
    example = section[section.index("```python\n") + 10 : section.index("```\n", section.index("```python"))]
    check = """
assert list(labeled["id"]) == ["r1", "r2", "r3"] and str(labeled["stars"].dtype) == "int64", labeled.dtypes
assert set(labeled["status"]) == {"succeeded"} and set(labeled["label"]) <= {"positive", "negative", "neutral"}
"""
    script = tmp_path / "example.py"
    script.write_text(example + check, encoding="utf-8")
    env = {
        **os.environ,
        **emulator_process,
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        "CORTHEX_DATA_DIR": str(tmp_path / "data"),
        "CORTHEX_POLL_INITIAL": "0.05",
        "CORTHEX_POLL_MAX": "0.3",
    }
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "포장이 엉망이에요" in out.stdout


def test_table_options_are_refused_on_a_jsonl_file_and_required_on_a_table(run, tmp_path: Path) -> None:
    jsonl = write(tmp_path / "in.jsonl", MIXED[:1])
    refused = run("submit", str(jsonl), "--prompt", "분류: {text}", ok=False)
    assert refused.returncode == 2 and "--prompt is for tables" in refused.stderr
    (tmp_path / "t.csv").write_text("text\n좋아요\n", encoding="utf-8")
    missing = run("submit", str(tmp_path / "t.csv"), ok=False)
    assert missing.returncode == 2 and "give --model and --prompt" in missing.stderr
