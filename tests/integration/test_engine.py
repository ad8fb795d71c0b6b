"""The batch engine end to end: files in, one result per request out, through the official
SDKs against the emulator, with its faults. (Its logic alone, on fake providers: tests/engine.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from engine_support import mixed

from corthex.config import Settings
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.errors import IdempotencyConflict, InvalidInput, JobFinished, NotFound, UsageError
from corthex.testing import fast_settings, worker_loop


async def collect(engine: Engine, job_id: str) -> list[dict[str, object]]:
    return [line async for line in engine.results(job_id)]


async def test_mixed_job_gets_one_result_per_request_in_input_order(engine: Engine, emulator: EmulatorServer) -> None:
    report = await engine.submit(mixed(30))
    summary = await engine.wait(report.job_id, timeout=60)
    assert summary.status.value == "completed" and summary.succeeded == 30
    lines = await collect(engine, report.job_id)
    assert [line["custom_id"] for line in lines] == [f"q{i}" for i in range(30)]
    first = lines[0]
    assert set(first) == {
        "custom_id",
        "status",
        "content",
        "finish_reason",
        "parsed",
        "model",
        "provider",
        "usage",
        "cost_usd",
        "tier",
        "error",
        "attempts",
    }
    assert first["tier"] == "batch"
    assert first["provider"] == "openai" and first["status"] == "succeeded" and first["attempts"] == 1
    assert isinstance(first["cost_usd"], float) and first["cost_usd"] > 0
    assert set(summary.by_provider) == {"openai", "anthropic", "gemini"}
    # one batch per provider, one model per OpenAI / Gemini batch; Anthropic mixes models
    stats = emulator.state.stats()
    assert [stats[p]["batches_created"] for p in ("openai", "anthropic", "gemini")] == [2, 1, 2]


@pytest.mark.parametrize(
    ("provider", "model", "op"), [("anthropic", "claude-haiku-4-5", "retrieve"), ("openai", "gpt-5-mini", "results")]
)
async def test_a_provider_outage_shorter_than_the_tolerance_is_waited_out_not_paid_twice(
    tmp_path, emulator: EmulatorServer, provider: str, model: str, op: str
) -> None:
    """Ten failed calls in a row (more than poll_max_failures) to read a batch's status or its
    results, within the minutes allowed: the batch is not given up, nothing is sent again."""
    async with Engine(fast_settings(tmp_path, poll_max_failures=3)) as engine:
        report = await engine.submit([{"custom_id": "o", "model": model, "prompt": "p"}])
        await engine.step()
        emulator.state.add_fault(Fault(provider, op, kind="http", status=500, times=10))
        summary = await engine.wait(report.job_id, timeout=30)
    assert summary.succeeded == 1
    assert emulator.state.stats()[provider]["batches_created"] == 1
    assert emulator.state.stats()[provider]["calls"][op] > 10


async def test_a_later_process_sees_and_finishes_the_job_W9(settings: Settings, emulator: EmulatorServer) -> None:
    async with Engine(settings) as first:
        report = await first.submit(mixed(12))
        await first.step()  # batches created, nothing collected: then the process "exits"
    async with Engine(settings) as second:
        summary = await second.wait(report.job_id, timeout=60)
        lines = await collect(second, report.job_id)
    assert summary.succeeded == 12
    # Gemini rows were matched by the key persisted with each request, not by memory
    gemini = [line for line in lines if line["provider"] == "gemini"]
    assert gemini and all(line["content"] and "question" in str(line["content"]) or line["content"] for line in gemini)
    assert sum(emulator.state.stats()[p]["batches_created"] for p in ("openai", "anthropic", "gemini")) == 5


async def test_bad_input_is_refused_whole_naming_each_line(engine: Engine, emulator: EmulatorServer) -> None:
    items = [*mixed(2), {"custom_id": "q0", "model": "gpt-5-mini", "prompt": "dup"}, {"model": "gpt-5", "prompt": "x"}]
    with pytest.raises(InvalidInput) as info:
        await engine.submit(items)
    text = str(info.value)
    assert (
        "item 3, field 'custom_id': duplicate custom_id 'q0'" in text and "item 4, field 'custom_id': missing" in text
    )
    assert await engine.jobs() == [] and emulator.state.stats()["openai"]["batches_created"] == 0


async def test_skip_invalid_sends_the_rest_and_reports_the_skipped(engine: Engine) -> None:
    report = await engine.submit([*mixed(3), {"custom_id": "bad", "model": "llama", "prompt": "x"}], skip_invalid=True)
    assert report.total == 3 and [p.line for p in report.skipped] == [4]
    assert (await engine.wait(report.job_id, timeout=60)).succeeded == 3


async def test_empty_input_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await engine.submit([])


async def test_cancel_after_completion_changes_nothing_and_says_so(engine: Engine) -> None:
    report = await engine.submit(
        [{"custom_id": f"k{i}", "model": "gpt-5-mini", "prompt": "삼성전자 분석"} for i in range(4)]
    )
    done = await engine.wait(report.job_id, timeout=30)
    assert done.status.value == "completed" and done.succeeded == 4
    with pytest.raises(JobFinished, match=f"job {report.job_id} is already completed: nothing to cancel"):
        await engine.cancel(report.job_id)
    after = await engine.status(report.job_id)
    assert after.status.value == "completed" and after.succeeded == 4
    assert {line["status"] for line in await collect(engine, report.job_id)} == {"succeeded"}
    with pytest.raises(NotFound):
        await engine.cancel("job_nope")


async def test_the_python_api_takes_an_idempotency_key(engine: Engine, tmp_path: Path) -> None:
    requests = [{"custom_id": f"k{i}", "model": "claude-haiku-4-5", "prompt": f"요약 {i}"} for i in range(3)]
    first = await engine.submit(requests, idempotency_key="nightly-2026-12-03")
    again = await engine.submit(requests, idempotency_key="nightly-2026-12-03")
    assert again.job_id == first.job_id and again.replayed and not first.replayed
    with pytest.raises(IdempotencyConflict, match="was used for other requests"):
        await engine.submit(requests[:2], idempotency_key="nightly-2026-12-03")
    path = tmp_path / "in.jsonl"
    path.write_text("".join(orjson.dumps(r).decode() + "\n" for r in requests))
    from_file = await engine.submit_file(path, idempotency_key="nightly-file")
    assert (await engine.submit_file(path, idempotency_key="nightly-file")).job_id == from_file.job_id
    assert len(await engine.jobs()) == 2
    with pytest.raises(UsageError, match="1 to 255 printable"):
        await engine.submit(requests, idempotency_key="")


async def test_unknown_job_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no job with id 'job_nope'"):
        await engine.status("job_nope")


async def test_unpriced_model_has_null_cost(engine: Engine) -> None:
    report = await engine.submit([{"custom_id": "u", "model": "gpt-7-imaginary", "prompt": "p"}])
    await engine.wait(report.job_id, timeout=60)
    [line] = await collect(engine, report.job_id)
    assert line["status"] == "succeeded" and line["cost_usd"] is None


async def test_a_slow_batch_creation_does_not_hold_up_the_polls(engine: Engine, emulator: EmulatorServer) -> None:
    """Issue 12, item 13: the worker waited for every creation of a round before it polled
    anything; a slow upload held up the results of every other batch."""
    quick = await engine.submit([{"custom_id": f"q{i}", "model": "claude-haiku-4-5", "prompt": "p"} for i in range(3)])
    await engine.step()  # the Anthropic batch is created and now waits for its polls
    emulator.state.add_fault(Fault("openai", "upload", kind="slow", delay=6.0, times=1))
    slow = await engine.submit([{"custom_id": f"s{i}", "model": "gpt-5-mini", "prompt": "업로드"} for i in range(3)])
    async with worker_loop(engine, slow.job_id, quick.job_id) as completed:
        await asyncio.wait_for(completed[quick.job_id].wait(), timeout=30)
        # collected while the OpenAI upload was still in flight
        assert [b.status.value for b in await engine.batches(slow.job_id)] == ["intent"]
        await asyncio.wait_for(completed[slow.job_id].wait(), timeout=60)
    assert (await engine.status(slow.job_id)).succeeded == 3


async def test_an_idle_worker_sleeps_between_rounds(engine: Engine) -> None:
    """With creation in the background, each round's dispatch woke the loop when it ended, even
    having sent nothing: an idle server ran ~150 rounds a second, and its API requests waited
    for database connections (the dashboard's restart test saw a finished chain as running)."""
    rounds = 0
    started = asyncio.Event()
    step = engine.step

    async def counted(*args: object) -> None:
        nonlocal rounds
        rounds += 1
        started.set()
        await step(*args)  # type: ignore[arg-type]

    engine.step = counted  # type: ignore[method-assign]
    async with worker_loop(engine):
        await asyncio.wait_for(started.wait(), timeout=30)  # the loop starts once the SDKs are imported
        first = rounds
        await asyncio.sleep(1.0)
    # idle_recheck is 0.2 s in the test settings: about five rounds, never hundreds
    assert rounds - first <= 15, f"{rounds - first} rounds in one idle second"
