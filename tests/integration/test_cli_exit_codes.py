"""Issue 16 items 2, 4 and 7 as a user meets them: real `corthex` processes against the emulator as a
process. The exit codes a script reads (0 all succeeded, 3 some did not, 4 still running, 2 refused),
`corthex retry`, `--out` without `--wait`, `results` of a running job, `--json`, `queue clear`, help."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import test_cli
import typer
from test_cli import write
from typer.core import TyperGroup

from corthex.cli import app

emulator_process = test_cli.emulator_process  # the fixtures of the CLI's tests (one emulator process per module)
run = test_cli.run

ERROR = "[[emulator:error]]"  # the emulator fails a request whose prompt holds this (docs/emulator.md)
REVIEWS = [
    {"custom_id": "리뷰-1", "model": "gpt-5-mini", "prompt": "이 리뷰를 분류해 주세요: 배송이 빨라요"},
    {"custom_id": "리뷰-2", "model": "claude-haiku-4-5", "prompt": f"이 리뷰를 분류해 주세요: 별로예요 {ERROR}"},
    {"custom_id": "리뷰-3", "model": "gemini-2.5-flash", "prompt": "이 리뷰를 분류해 주세요: 최고예요"},
    {"custom_id": "리뷰-4", "model": "gpt-5-mini", "prompt": f"이 리뷰를 분류해 주세요: 환불 원해요 {ERROR}"},
]
GOOD = [REVIEWS[0], REVIEWS[2]]


def job_of(output: str) -> str:
    return re.search(r"job (job_[0-9a-f]+)", output).group(1)


def test_submit_wait_exits_0_when_every_request_succeeded(run, tmp_path: Path) -> None:
    out = run("submit", str(write(tmp_path / "good.jsonl", GOOD)), "--wait")
    assert out.returncode == 0 and "completed" in out.stdout


def test_submit_wait_exits_3_when_some_requests_failed(run, tmp_path: Path) -> None:
    out = run("submit", str(write(tmp_path / "reviews.jsonl", REVIEWS)), "--wait", ok=False)
    assert out.returncode == 3, out.stderr
    assert "completed" in out.stdout
    again = run("wait", job_of(out.stdout), ok=False)
    assert again.returncode == 3 and "completed" in again.stdout


def test_out_without_wait_waits_and_says_so(run, tmp_path: Path) -> None:
    out = run("submit", str(write(tmp_path / "good.jsonl", GOOD)), "--out", str(tmp_path / "out.jsonl"))
    assert f"--out implies --wait: waiting for every result, then writing them to {tmp_path / 'out.jsonl'}" in (
        out.stderr.replace("\n", "")
    )
    assert [orjson.loads(x)["custom_id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        "리뷰-1",
        "리뷰-3",
    ]


def test_retry_resends_only_the_failed_requests_as_a_new_linked_job(run, tmp_path: Path) -> None:
    first = job_of(run("submit", str(write(tmp_path / "reviews.jsonl", REVIEWS)), "--wait", ok=False).stdout)
    failed = run("results", first, "--status", "failed,expired", ok=False)
    assert failed.returncode == 3  # the job ended with failures
    assert [orjson.loads(x)["custom_id"] for x in failed.stdout.splitlines()] == ["리뷰-2", "리뷰-4"]

    out = run("retry", first)
    assert f"2 requests resent from job {first}" in out.stdout
    second = job_of(out.stdout)
    assert second != first
    waited = run("retry", first, "--wait", "--out", str(tmp_path / "again.jsonl"), ok=False)
    assert waited.returncode == 3  # the same bodies: the emulator's hook fails them again
    lines = [orjson.loads(x) for x in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert [(x["custom_id"], x["status"]) for x in lines] == [("리뷰-2", "failed"), ("리뷰-4", "failed")]
    run("wait", second, ok=False)
    shown = orjson.loads(run("status", second, "--json").stdout)
    assert shown["retry_of"] == first and shown["total"] == 2 and shown["label"] == f"retry of {first}"
    assert "a retry of job " + first in run("status", second).stdout


def test_retry_of_a_job_with_nothing_to_retry_exits_2(run, tmp_path: Path) -> None:
    job = job_of(run("submit", str(write(tmp_path / "good.jsonl", GOOD)), "--wait").stdout)
    out = run("retry", job, ok=False)
    assert out.returncode == 2
    assert f"job {job} has no failed or expired request: nothing to retry" in out.stderr.replace("\n", "")
    assert run("retry", job, "--status", "succeeded", ok=False).returncode == 2
    assert len(orjson.loads(run("status", "--json").stdout)) == 1  # nothing was recorded


@pytest.fixture
def held_batches(emulator_process: dict[str, str]):  # noqa: ANN201 - yields nothing
    """Batches created from now on stay running until the test ends (the emulator's never_end fault)."""
    control = emulator_process["OPENAI_BASE_URL"].removesuffix("/openai/v1") + "/_emulator/faults"
    httpx.post(control, json={"provider": "*", "op": "create", "kind": "never_end"}).raise_for_status()
    yield
    httpx.delete(control).raise_for_status()


def test_results_of_a_running_job_say_how_far_it_is_and_exit_4(run, tmp_path: Path, held_batches: None) -> None:
    job = job_of(run("submit", str(write(tmp_path / "good.jsonl", GOOD))).stdout)
    out = run("results", job, ok=False)
    assert out.returncode == 4 and out.stdout == ""
    assert "0/2 done (job running)" in out.stderr


def test_json_summaries_and_queue_clear(run, tmp_path: Path) -> None:
    job = job_of(run("submit", str(write(tmp_path / "good.jsonl", GOOD)), "--wait").stdout)
    detail = orjson.loads(run("status", job, "--json").stdout)
    assert detail["id"] == job and detail["succeeded"] == 2 and len(detail["batch_list"]) == 2
    assert all(b["job_requests"] == 1 and b["shared_with_jobs"] == 0 for b in detail["batch_list"])
    summary = orjson.loads(run("results", job, "--out", str(tmp_path / "r.jsonl"), "--json").stdout)
    assert summary["written"] == 2 and summary["id"] == job
    assert orjson.loads(run("chain", "list", "--json").stdout) == []

    queued = job_of(run("queue", "add", str(write(tmp_path / "q.jsonl", GOOD))).stdout)
    assert "1 queued job(s) canceled: 2 requests" in run("queue", "clear").stdout
    assert orjson.loads(run("status", queued, "--json").stdout)["status"] == "canceled"
    assert "queue: 0 requests" in run("queue", "list").stdout


@pytest.mark.parametrize(
    "command", [["submit"], ["results"], ["retry"], ["wait"], ["queue", "add"], ["queue", "clear"], ["chain", "run"]]
)
def test_help_shows_flags_without_a_value_and_an_example(run, command: list[str]) -> None:
    out = run(*command, "--help").stdout
    assert "<bool>" not in out
    assert "Example: corthex " + " ".join(command) in out


def test_every_command_has_an_example_in_its_help() -> None:
    def leaves(command: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
        if isinstance(command, TyperGroup):
            return [leaf for name, sub in command.commands.items() for leaf in leaves(sub, (*path, name))]
        return [(path, command)]

    found = leaves(typer.main.get_command(app), ("corthex",))
    assert len(found) >= 15
    for path, command in found:
        example = (command.epilog or "").partition("Example: ")[2].partition("\n")[0]
        assert " ".join(path) in example, path


def test_help_names_the_exit_codes_and_skip_invalid(run) -> None:
    assert "3 the job ended with failed, expired or canceled requests" in run("submit", "--help").stdout
    assert "Queue the valid lines and report the invalid ones" in run("queue", "add", "--help").stdout
