"""Cancel (issue 16, item 3): nothing of a canceled job goes out or stays running, its counts
stand apart from failures, and a batch shared with another job keeps serving that job."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.requests import ProviderName
from corthex.engine.engine import Engine
from corthex.testing import FakeBatch, FakeProvider, fake_providers, fast_settings, wait_until, worker_loop


def requests(n: int, prefix: str) -> list[dict[str, object]]:
    """Half to OpenAI, half to Anthropic, in Korean."""
    models = ("gpt-5-mini", "claude-haiku-4-5")
    return [{"custom_id": f"{prefix}{i}", "model": models[i % 2], "prompt": f"리뷰 {i} 분류"} for i in range(n)]


def small_batches(fake: FakeProvider, size: int) -> FakeProvider:
    fake.limits = ProviderLimits(**{**_fields(LIMITS[fake.name]), "max_requests": size})
    return fake


def _fields(limits: ProviderLimits) -> dict[str, int]:
    return {name: getattr(limits, name) for name in limits.__slots__}


def returned(fake: FakeProvider) -> bool:
    """Every create call made has returned (its batch exists)."""
    return fake.created == fake.calls["create"]


def running(fake: FakeProvider) -> list[FakeBatch]:
    return [b for b in fake.batches.values() if not b.canceled]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_cancel_right_after_submission_leaves_nothing_running(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    openai = small_batches(FakeProvider(ProviderName.OPENAI), 50)
    anthropic = small_batches(FakeProvider(ProviderName.ANTHROPIC), 50)
    for fake in (openai, anthropic):
        fake.on_create = lambda batch: setattr(batch, "polls", None)  # runs until canceled
    held = [openai.hold("create"), anthropic.hold("create")]
    more = {"database_url": request.getfixturevalue("pg_url")} if backend == "postgresql" else {}
    settings = fast_settings(tmp_path, **more)
    async with Engine(settings, providers=fake_providers(openai=openai, anthropic=anthropic)) as engine:
        report = await engine.submit(requests(400, "r"))
        async with worker_loop(engine):
            # batches are being created: their create calls are in flight, the rest wait their turn
            await wait_until(lambda: openai.calls["create"] + anthropic.calls["create"] >= 2, within=10)
            outcome = await engine.cancel(report.job_id)
            for event in held:
                event.set()  # the creates in flight return now, after the cancel
            await wait_until(lambda: returned(openai) and returned(anthropic), within=10, what="the creates to return")
            await asyncio.sleep(0.5)  # a few more worker rounds: nothing more goes out, nothing left running
        summary = await engine.status(report.job_id)
    assert not running(openai) and not running(anthropic)
    assert outcome.canceled == 400 and outcome.already_done == 0
    assert outcome.message() == "400 canceled, 0 already done"
    assert summary.status.value == "canceled"
    assert (summary.canceled, summary.failed, summary.succeeded) == (400, 0, 0)
    created = openai.created + anthropic.created
    assert 2 <= created <= 4  # only the creates already in flight (2 building at once); all canceled
    assert not running(openai) and not running(anthropic)


async def test_a_cancel_keeps_what_was_done_and_counts_it_apart(tmp_path: Path) -> None:
    async with Engine(fast_settings(tmp_path), providers=fake_providers()) as engine:
        first = await engine.submit(requests(2, "d"))
        await engine.wait(first.job_id, timeout=30)
        later = await engine.submit(requests(6, "l"), queue=True)
        outcome = await engine.cancel(later.job_id)
        summary = await engine.status(later.job_id)
    assert (outcome.canceled, outcome.already_done, outcome.batches_canceled) == (6, 0, 0)
    assert summary.canceled == 6 and summary.failed == 0
    assert summary.to_dict()["canceled"] == 6
    assert all(c.canceled == 3 and c.failed == 0 for c in summary.by_provider.values())


async def test_a_shared_batch_keeps_serving_the_job_not_canceled(
    engine: Engine, fakes: dict[str, FakeProvider]
) -> None:
    openai = fakes["openai"]
    openai.on_create = lambda batch: setattr(batch, "polls", 3)
    mine = [{"custom_id": f"m{i}", "model": "gpt-5-mini", "prompt": f"내 질문 {i}"} for i in range(4)]
    theirs = [{"custom_id": f"t{i}", "model": "gpt-5-mini", "prompt": f"다른 질문 {i}"} for i in range(5)]
    a = await engine.submit(mine, queue=True)
    b = await engine.submit(theirs, queue=True)
    await engine.flush()
    await engine.step()
    assert openai.created == 1 and len(next(iter(openai.batches.values())).items) == 9  # one batch for both
    outcome = await engine.cancel(a.job_id)
    assert (outcome.canceled, outcome.already_done, outcome.batches_canceled) == (4, 0, 0)
    assert running(openai)  # the batch goes on for the other job
    other = await engine.wait(b.job_id, timeout=30)
    assert other.succeeded == 5 and other.canceled == 0
    canceled = await engine.status(a.job_id)
    assert canceled.status.value == "canceled" and (canceled.canceled, canceled.succeeded) == (4, 0)
    lines = [line async for line in engine.results(a.job_id)]
    assert [line["status"] for line in lines] == ["canceled"] * 4  # the answers that came anyway: discarded
    assert openai.calls["cancel"] == 0


async def test_a_batch_whose_every_job_is_canceled_is_canceled(engine: Engine, fakes: dict[str, FakeProvider]) -> None:
    anthropic = fakes["anthropic"]
    anthropic.on_create = lambda batch: setattr(batch, "polls", None)
    one = await engine.submit([{"custom_id": "a0", "model": "claude-haiku-4-5", "prompt": "하나"}], queue=True)
    two = await engine.submit([{"custom_id": "b0", "model": "claude-haiku-4-5", "prompt": "둘"}], queue=True)
    await engine.flush()
    await engine.step()
    assert anthropic.created == 1
    assert (await engine.cancel(one.job_id)).batches_canceled == 0  # still wanted by the other job
    assert running(anthropic)
    assert (await engine.cancel(two.job_id)).batches_canceled == 1  # now nobody wants it
    assert not running(anthropic)
