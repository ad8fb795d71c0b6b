"""Deadlines (issue 17): a job whose batch would end too late is moved to a faster tier; what the
batch answered is kept and never asked again; without a deadline nothing changes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from corthex.domain import deadlines as deadline_rules
from corthex.domain.describe import describe
from corthex.domain.events import Event, RequestsMoved
from corthex.domain.requests import ProviderName
from corthex.engine.engine import Engine
from corthex.testing import FakeBatch, FakeProvider, fake_providers, fast_settings, worker_loop


def requests(n: int, prefix: str, model: str = "gpt-4.1-mini") -> list[dict[str, object]]:
    """gpt-4.1-mini has no flex processing: a faster tier for it is realtime."""
    return [{"custom_id": f"{prefix}{i}", "model": model, "prompt": f"리뷰 {i} 요약"} for i in range(n)]


async def lines_of(engine: Engine, job_id: str) -> list[dict[str, Any]]:
    return [line async for line in engine.results(job_id)]


async def test_a_batch_that_would_end_too_late_is_canceled_and_the_rest_answered_in_realtime(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI)
    moved: list[Event] = []
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        engine.bus.subscribe(moved.append, types=(RequestsMoved,))
        first = await engine.submit(requests(5, "h"))  # history: openai batches end in milliseconds
        await engine.wait(first.job_id, timeout=30)

        def stuck(batch: FakeBatch) -> None:
            batch.polls, batch.answered = None, 2  # never ends; 2 answers are in when it is canceled

        openai.on_create = stuck
        started = time.time()
        report = await engine.submit(requests(5, "d"), deadline="6s", deadline_margin=1)
        async with worker_loop(engine, report.job_id) as done:
            await done[report.job_id].wait()
        finished = time.time()
        summary = await engine.status(report.job_id)
        lines = await lines_of(engine, report.job_id)
    assert finished < started + 6  # the deadline was met
    assert summary.succeeded == 5 and summary.status.value == "completed"
    assert Counter(line["tier"] for line in lines) == {"batch": 2, "realtime": 3}
    assert Counter(line["custom_id"] for line in lines) == {f"d{i}": 1 for i in range(5)}  # each answered once
    assert openai.calls["complete"] == 3  # only what the batch had not answered went out again
    stuck_batches = [b for b in openai.batches.values() if b.polls is None]
    assert len(stuck_batches) == 1 and stuck_batches[0].canceled
    assert [(e.batch_id is not None, e.requests, e.tier) for e in moved if isinstance(e, RequestsMoved)] == [
        (True, 5, "realtime")
    ]
    realtime, batch = summary.tiers["realtime"], summary.tiers["batch"]
    assert (realtime.results, batch.results) == (3, 2)
    assert realtime.cost_usd > realtime.batch_cost_usd > 0 and batch.over_batch_usd == 0
    assert summary.deadline_cost_usd == realtime.cost_usd - realtime.batch_cost_usd
    realtime_lines = [line for line in lines if line["tier"] == "realtime"]
    assert sum(line["cost_usd"] for line in realtime_lines) == realtime.cost_usd
    assert summary.to_dict()["tiers"]["realtime"]["results"] == 3


async def test_queued_requests_go_straight_to_realtime_when_no_batch_could_end_in_time(tmp_path: Path) -> None:
    """No history: OpenAI's prior (its published slow day) says a new batch ends too late."""
    openai = FakeProvider(ProviderName.OPENAI)
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        report = await engine.submit(requests(4, "q"), deadline="2m")
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    assert openai.created == 0 and openai.calls["complete"] == 4
    assert summary.succeeded == 4 and {line["tier"] for line in lines} == {"realtime"}
    assert summary.deadline is not None


async def test_a_model_with_flex_processing_is_answered_on_flex_at_the_batch_price(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI)
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        report = await engine.submit(requests(3, "x", model="gpt-5-mini"), deadline="2m")
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    assert openai.created == 0 and {line["tier"] for line in lines} == {"flex"}
    flex = summary.tiers["flex"]
    assert flex.results == 3 and flex.cost_usd == flex.batch_cost_usd > 0 and summary.deadline_cost_usd == 0


async def test_without_a_deadline_nothing_changes(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI)
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        report = await engine.submit(requests(4, "n"))
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    assert openai.created == 1 and openai.calls["complete"] == 0 and openai.calls["cancel"] == 0
    assert {line["tier"] for line in lines} == {"batch"}
    assert summary.deadline is None and summary.deadline_cost_usd == 0
    assert set(summary.tiers) == {"batch"}


async def test_a_far_deadline_leaves_the_batch_alone(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI)
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        report = await engine.submit(requests(4, "f"), deadline="1d")
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    assert openai.created == 1 and openai.calls["complete"] == 0 and openai.calls["cancel"] == 0
    assert {line["tier"] for line in lines} == {"batch"} and summary.deadline_cost_usd == 0


def claude_requests(n: int, prefix: str) -> list[dict[str, object]]:
    return requests(n, prefix, model="claude-haiku-4-5")


async def test_only_the_late_provider_and_model_group_of_a_job_is_moved(tmp_path: Path) -> None:
    """OpenAI's batches are known to end in milliseconds; Claude's have no history (its prior, an
    hour, is far past a deadline two minutes off): only the Claude requests go faster."""
    openai, anthropic = FakeProvider(ProviderName.OPENAI), FakeProvider(ProviderName.ANTHROPIC)
    providers = fake_providers(openai=openai, anthropic=anthropic)
    moved: list[Event] = []
    async with Engine(fast_settings(tmp_path), providers=providers) as engine:
        engine.bus.subscribe(moved.append, types=(RequestsMoved,))
        first = await engine.submit(requests(5, "h"))
        await engine.wait(first.job_id, timeout=30)
        report = await engine.submit(requests(3, "o") + claude_requests(3, "c"), deadline="2m")
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    tiers = {line["custom_id"]: line["tier"] for line in lines}
    assert tiers == {"o0": "batch", "o1": "batch", "o2": "batch", "c0": "realtime", "c1": "realtime", "c2": "realtime"}
    assert openai.created == 2 and openai.calls["complete"] == 0  # the on-time group kept going by batch
    assert anthropic.created == 0 and anthropic.calls["complete"] == 3
    assert summary.succeeded == 6
    assert [(e.batch_id, e.provider, e.requests) for e in moved if isinstance(e, RequestsMoved)] == [
        (None, "anthropic", 3)
    ]
    assert describe(moved[0]).startswith(f"⏩ job {report.job_id}: 3 requests to realtime (a new batch at anthropic")


def _fast_tier_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A move takes 2 s at least here (a test's day is seconds long); `raising=False`: the
    names are this change's, and main's code must fail on behaviour, not on a missing name."""
    monkeypatch.setattr(deadline_rules, "FAST_FLOOR_SECONDS", 2.0, raising=False)
    monkeypatch.setattr(deadline_rules, "FAST_CALL_SECONDS", 0.5, raising=False)


async def test_a_late_batch_that_ends_before_its_last_safe_moment_is_all_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No history: OpenAI's prior (84 minutes) says the batch ends far too late for a deadline
    8 s off; its last safe moment is 8 - 1 - 2 = 5 s in. It ends after about a second: nothing
    was moved, everything at the batch price."""
    _fast_tier_in_seconds(monkeypatch)
    openai = FakeProvider(ProviderName.OPENAI)
    loop = asyncio.get_running_loop()

    def slow(batch: FakeBatch) -> None:
        batch.polls = None
        loop.call_later(1.0, setattr, batch, "polls", 0)  # ends at the next look after a second

    openai.on_create = slow
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        report = await engine.submit(requests(5, "w"), deadline="8s", deadline_margin=1)
        summary = await engine.wait(report.job_id, timeout=30)
        lines = await lines_of(engine, report.job_id)
    assert openai.created == 1 and openai.calls["cancel"] == 0 and openai.calls["complete"] == 0
    assert {line["tier"] for line in lines} == {"batch"} and summary.deadline_cost_usd == 0


async def test_a_late_batch_is_moved_at_its_last_safe_moment_not_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that never ends: left running until 8 - 1 - 2 = 5 s in, then canceled (2 answers
    kept) and the rest answered realtime before the deadline."""
    _fast_tier_in_seconds(monkeypatch)
    openai = FakeProvider(ProviderName.OPENAI)
    moved_at: list[float] = []

    def stuck(batch: FakeBatch) -> None:
        batch.polls, batch.answered = None, 2

    openai.on_create = stuck
    async with Engine(fast_settings(tmp_path), providers=fake_providers(openai=openai)) as engine:
        engine.bus.subscribe(lambda event: moved_at.append(time.time()), types=(RequestsMoved,))
        started = time.time()
        report = await engine.submit(requests(5, "m"), deadline="8s", deadline_margin=1)
        async with worker_loop(engine, report.job_id) as done:
            await asyncio.sleep(3.5)
            assert openai.calls["cancel"] == 0 and not moved_at  # late, but still time to wait
            await done[report.job_id].wait()
        finished = time.time()
        lines = await lines_of(engine, report.job_id)
    assert len(moved_at) == 1 and moved_at[0] >= started + 4.5  # at the last safe moment (a worker round's slack)
    assert finished < started + 8
    assert openai.created == 1 and openai.calls["cancel"] == 1
    assert Counter(line["tier"] for line in lines) == {"batch": 2, "realtime": 3}
