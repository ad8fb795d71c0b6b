"""The batch engine's logic on fake providers: grouping, retries, expiry, outages, the queue,
cancellation. (These ran against the emulator until issue 13; each asserts what it did there.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from engine_support import mixed

from corthex.domain.batches import BatchStatus, RemoteRef
from corthex.domain.requests import ProviderName
from corthex.domain.results import ProviderResult, ResultStatus
from corthex.engine.engine import Engine
from corthex.providers.base import WireItem
from corthex.testing import (
    FAKE_PACE,
    FakeBatch,
    FakeProvider,
    answer,
    fake_providers,
    fast_settings,
    row_error,
    worker_loop,
)

Fakes = dict[str, FakeProvider]


async def collect(engine: Engine, job_id: str) -> list[dict[str, object]]:
    return [line async for line in engine.results(job_id)]


def created(fakes: Fakes) -> list[int]:
    return [fakes[p].created for p in ("openai", "anthropic", "gemini")]


async def test_each_provider_batch_is_recorded_on_its_own(engine: Engine, fakes: Fakes) -> None:
    report = await engine.submit(mixed(12))
    await engine.wait(report.job_id, timeout=60)
    batches = await engine.batches(report.job_id)
    assert len(batches) == 5 and all(b.status is BatchStatus.COLLECTED for b in batches)
    assert sorted((b.provider.value, b.model or "") for b in batches) == sorted(
        [
            ("anthropic", ""),
            ("gemini", "gemini-2.5-flash"),
            ("gemini", "gemini-2.5-pro"),
            ("openai", "gpt-5-mini"),
            ("openai", "gpt-5-nano"),
        ]
    )
    assert created(fakes) == [2, 1, 2]


async def test_retryable_row_errors_go_out_again_and_succeed(engine: Engine, fakes: Fakes) -> None:
    anthropic = fakes["anthropic"]

    def every_second_fails_once(item: WireItem) -> object:
        first_batch = anthropic.created == 0
        odd = int(item.request.custom_id[1:]) % 2 == 1
        return row_error(item) if first_batch and odd else answer(item)

    anthropic.handler = every_second_fails_once  # type: ignore[assignment]
    report = await engine.submit(
        [{"custom_id": f"a{i}", "model": "claude-haiku-4-5", "prompt": f"p{i}"} for i in range(6)]
    )
    summary = await engine.wait(report.job_id, timeout=60)
    lines = await collect(engine, report.job_id)
    assert summary.succeeded == 6
    assert sorted(line["attempts"] for line in lines) == [1, 1, 1, 2, 2, 2]
    assert anthropic.created == 2


async def test_attempts_are_bounded(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI, row_error)
    async with Engine(
        fast_settings(tmp_path, max_attempts=2, **FAKE_PACE), providers=fake_providers(openai=openai)
    ) as engine:
        report = await engine.submit([{"custom_id": "x", "model": "gpt-5-mini", "prompt": "p"}])
        summary = await engine.wait(report.job_id, timeout=60)
        [line] = await collect(engine, report.job_id)
    assert summary.failed == 1 and line["status"] == "failed" and line["attempts"] == 2
    assert line["error"]["message"]


async def test_expired_batch_keeps_partial_results_and_retries_the_rest(engine: Engine, fakes: Fakes) -> None:
    openai = fakes["openai"]

    def first_expires_half_done(batch: FakeBatch) -> None:
        if openai.created == 0:
            batch.ended_as, batch.answered = ResultStatus.EXPIRED, len(batch.items) // 2

    openai.on_create = first_expires_half_done
    report = await engine.submit([{"custom_id": f"o{i}", "model": "gpt-5-mini", "prompt": f"p{i}"} for i in range(8)])
    summary = await engine.wait(report.job_id, timeout=60)
    lines = await collect(engine, report.job_id)
    assert summary.succeeded == 8
    assert sorted(line["attempts"] for line in lines).count(2) == 4


async def test_a_failing_provider_does_not_hold_back_the_others(engine: Engine, fakes: Fakes) -> None:
    # 429: surely not created, so the group goes back to the queue (a 5xx keeps the intent: tests/reliability)
    fakes["gemini"].fail("create", status_code=429, times=2)
    report = await engine.submit(mixed(6))
    await engine.step()
    assert created(fakes)[:2] == [2, 1]
    assert fakes["gemini"].created == 0  # its group stays queued, with backoff
    summary = await engine.wait(report.job_id, timeout=60)
    assert summary.succeeded == 6
    assert fakes["gemini"].created == 2


async def test_unreachable_status_gives_up_with_a_clear_failure_W7(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, poll_max_failures=3, poll_unreachable_minutes=0, max_attempts=1, **FAKE_PACE)
    # the batch runs until the test makes its status unreachable (at the fake's pace a first
    # round could otherwise see it end)
    anthropic = FakeProvider(ProviderName.ANTHROPIC, on_create=lambda batch: setattr(batch, "polls", None))
    async with Engine(settings, providers=fake_providers(anthropic=anthropic)) as engine:
        report = await engine.submit([{"custom_id": "c", "model": "claude-haiku-4-5", "prompt": "p"}])
        await engine.step()
        anthropic.fail("poll", times=None)
        summary = await engine.wait(report.job_id, timeout=30)
        [line] = await collect(engine, report.job_id)
    assert summary.failed == 1 and line["status"] == "expired"
    assert "unreachable" in line["error"]["message"]


async def test_a_batch_that_never_ends_is_given_up_W6(tmp_path: Path) -> None:
    gemini = FakeProvider(ProviderName.GEMINI, on_create=lambda batch: setattr(batch, "polls", None))
    settings = fast_settings(tmp_path, batch_max_age_hours=0.1 / 3600, max_attempts=1, **FAKE_PACE)
    async with Engine(settings, providers=fake_providers(gemini=gemini)) as engine:
        report = await engine.submit([{"custom_id": "g", "model": "gemini-2.5-flash", "prompt": "p"}])
        summary = await engine.wait(report.job_id, timeout=30)
        [line] = await collect(engine, report.job_id)
    assert line["status"] == "expired" and "still open" in line["error"]["message"]
    assert summary.status.value == "completed"


async def test_queue_waits_for_a_flush_then_sends_one_group_per_provider(engine: Engine, fakes: Fakes) -> None:
    first = await engine.submit(mixed(6, "a"), queue=True)
    second = await engine.submit(mixed(6, "b"), queue=True)
    await engine.step()
    assert fakes["anthropic"].created == 0
    assert await engine.flush() == 12
    await engine.wait(first.job_id, timeout=60)
    await engine.wait(second.job_id, timeout=60)
    assert created(fakes) == [2, 1, 2]


async def test_queue_flushes_itself_when_full(tmp_path: Path) -> None:
    async with Engine(fast_settings(tmp_path, queue_max_requests=5, **FAKE_PACE), providers=fake_providers()) as engine:
        small = await engine.submit(mixed(3, "s"), queue=True)
        await engine.step()
        assert (await engine.status(small.job_id)).status.value == "queued"
        await engine.submit(mixed(3, "t"), queue=True)
        await engine.step()
        # released: out in a batch (at the fake's pace it may have come back within the round)
        assert (await engine.status(small.job_id)).status.value in ("running", "completed")


async def test_queue_flushes_itself_when_old(tmp_path: Path) -> None:
    async with Engine(fast_settings(tmp_path, queue_max_age=0.05, **FAKE_PACE), providers=fake_providers()) as engine:
        report = await engine.submit(mixed(2), queue=True)
        summary = await engine.wait(report.job_id, timeout=30)
    assert summary.succeeded == 2


async def test_cancel_stops_the_job_and_keeps_nothing_going(engine: Engine, fakes: Fakes) -> None:
    anthropic = fakes["anthropic"]
    anthropic.on_create = lambda batch: setattr(batch, "polls", None)  # never ends
    report = await engine.submit([{"custom_id": f"c{i}", "model": "claude-haiku-4-5", "prompt": "p"} for i in range(3)])
    await engine.step()
    await engine.cancel(report.job_id)
    summary = await engine.wait(report.job_id, timeout=30)
    lines = await collect(engine, report.job_id)
    assert summary.status.value == "canceled"
    assert {line["status"] for line in lines} <= {"canceled", "succeeded"} and len(lines) == 3
    assert anthropic.created == 1  # nothing retried


async def test_a_slow_result_download_does_not_hold_up_other_batches(engine: Engine, fakes: Fakes) -> None:
    download = fakes["anthropic"].hold("results")  # Anthropic's results wait until the test lets them go
    slow = await engine.submit([{"custom_id": f"s{i}", "model": "claude-haiku-4-5", "prompt": "p"} for i in range(3)])
    quick = await engine.submit([{"custom_id": f"q{i}", "model": "gpt-5-mini", "prompt": "p"} for i in range(3)])
    async with worker_loop(engine, slow.job_id, quick.job_id) as completed:
        await asyncio.wait_for(completed[quick.job_id].wait(), timeout=30)
        # the OpenAI batch was polled and collected while Anthropic's results were still downloading
        assert (await engine.status(slow.job_id)).status.value == "running"
        assert fakes["anthropic"].calls["results"] >= 1  # the download is in flight, not yet begun
        download.set()
        await asyncio.wait_for(completed[slow.job_id].wait(), timeout=60)
    assert (await engine.status(slow.job_id)).succeeded == 3


async def test_wait_collects_a_batch_that_ended_while_another_is_still_being_created(
    engine: Engine, fakes: Fakes
) -> None:
    """`Engine.wait` (`corthex submit --wait`) handles each batch in a task of its own, as the
    worker does: a batch that ended is collected while another one's creation is in flight,
    not after it."""
    creating = fakes["anthropic"].hold("create")  # Anthropic's creation waits until the test lets it go
    lines = [{"custom_id": f"a{i}", "model": "claude-haiku-4-5", "prompt": "안녕하세요"} for i in range(3)]
    lines += [{"custom_id": f"o{i}", "model": "gpt-5-mini", "prompt": "p"} for i in range(3)]
    report = await engine.submit(lines)
    waiting = asyncio.create_task(engine.wait(report.job_id, timeout=60))
    try:
        for _ in range(3000):  # the OpenAI batch's answers are stored while Anthropic's is being created
            if (await engine.status(report.job_id)).succeeded == 3 or waiting.done():
                break
            await asyncio.sleep(0.01)
        assert (await engine.status(report.job_id)).succeeded == 3
        assert fakes["anthropic"].created == 0 and not waiting.done()
    finally:
        creating.set()
    summary = await asyncio.wait_for(waiting, timeout=60)
    assert summary.succeeded == 6


async def test_reading_a_long_result_stream_gives_other_tasks_their_turns(engine: Engine, fakes: Fakes) -> None:
    """Rows already received are read without awaiting I/O: collection gives the event loop a
    turn every few hundred rows, so other batches' polls are not held up until a download ends."""
    openai = fakes["openai"]
    turns = 0
    seen: list[int] = []  # the turns taken by the other task when each row was read
    stream = openai.results

    async def watched(ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        async for row in stream(ref, keep_raw=keep_raw):
            seen.append(turns)
            yield row

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    openai.results = watched  # type: ignore[method-assign]
    report = await engine.submit([{"custom_id": f"r{i}", "model": "gpt-5-mini", "prompt": "요약"} for i in range(1000)])
    other = asyncio.create_task(other_task())
    try:
        await engine.wait(report.job_id, timeout=60)
    finally:
        other.cancel()
    assert len(seen) == 1000
    assert seen[-1] - seen[0] >= 4  # 1,000 rows: a turn at least every 200
