"""Polling at scale (issue 18): a provider's due batches are read with one list call per page, not
one retrieve each; a batch the list does not show is retrieved on its own; a failed list call is
every batch's failed poll. The engine against the in-process emulator, through the OpenAI SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from corthex.domain.batches import BatchStatus, RemoteRef, RemoteStatus
from corthex.domain.limits import LIMITS
from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.providers.openai import OpenAIProvider
from corthex.testing import fast_settings, wait_until

KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"
N = 12
OPENAI = ProviderName.OPENAI


class HidingProvider(OpenAIProvider):
    """OpenAI's adapter whose list leaves out the first batch asked for (as a list that lags)."""

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        found = await super().poll_many(refs, since)
        found.pop(refs[0].remote_id, None)
        return found


def _provider(tmp_path: Path, cls: type[OpenAIProvider] = OpenAIProvider) -> OpenAIProvider:
    provider = cls(tmp_path / "openai", max_retries=0)
    provider.limits = replace(LIMITS[OPENAI], max_requests=1)  # one request per batch: N batches
    return provider


@pytest.fixture
async def open_batches(
    tmp_path: Path, emulator: EmulatorServer, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Engine, str]]:
    """An engine with N open OpenAI batches (held running by the emulator), all due now."""
    emulator.state.reset()
    emulator.state.add_fault(Fault("openai", "create", "never_end"))
    provider = _provider(tmp_path, getattr(request, "param", OpenAIProvider))
    async with Engine(fast_settings(tmp_path), providers={OPENAI: provider}) as engine:
        lines = [{"custom_id": f"q{i}", "model": "gpt-5-mini", "prompt": f"{KOREAN} {i}"} for i in range(N)]
        report = await engine.submit(lines)

        async def all_open() -> bool:
            await engine.step()
            batches = await engine.batches(report.job_id)
            return len(batches) == N and all(b.status is BatchStatus.SUBMITTED for b in batches)

        await wait_until(all_open, within=30, what=f"{N} open batches")
        try:
            yield engine, report.job_id
        finally:
            await provider.aclose()  # given to the engine, so not closed by it


async def _round(engine: Engine, emulator: EmulatorServer) -> dict[str, int]:
    """One poll round once every batch is due: the status calls it made."""
    await _all_due(engine)
    before = dict(emulator.state.stats()["openai"]["calls"])
    await engine.step()
    after = emulator.state.stats()["openai"]["calls"]
    return {op: after.get(op, 0) - before.get(op, 0) for op in ("list", "retrieve")}


async def _all_due(engine: Engine) -> None:
    for batch in await engine.batches():
        await engine.poll_soon(batch.id)


async def test_one_round_reads_twelve_open_batches_with_one_list_call(
    open_batches: tuple[Engine, str], emulator: EmulatorServer
) -> None:
    engine, job_id = open_batches
    assert await _round(engine, emulator) == {"list": 1, "retrieve": 0}
    assert all(b.poll_failures == 0 and b.status is BatchStatus.SUBMITTED for b in await engine.batches(job_id))
    emulator.state.clear_faults()  # the batches end: every result comes back, once
    await engine.wait(job_id, timeout=60)
    rows = [line async for line in engine.results(job_id)]
    assert sorted(row["custom_id"] for row in rows) == sorted(f"q{i}" for i in range(N))
    assert {row["status"] for row in rows} == {"succeeded"}


@pytest.mark.parametrize("open_batches", [HidingProvider], indirect=True)
async def test_a_batch_the_list_does_not_show_is_retrieved_on_its_own(
    open_batches: tuple[Engine, str], emulator: EmulatorServer
) -> None:
    engine, job_id = open_batches
    assert await _round(engine, emulator) == {"list": 1, "retrieve": 1}
    assert all(b.poll_failures == 0 for b in await engine.batches(job_id))


async def test_a_failed_list_call_is_a_failed_poll_of_every_batch_it_served(
    open_batches: tuple[Engine, str], emulator: EmulatorServer
) -> None:
    engine, job_id = open_batches
    emulator.state.add_fault(Fault("openai", "list", "http", status=503, times=1))
    assert await _round(engine, emulator) == {"list": 1, "retrieve": 0}
    batches = await engine.batches(job_id)
    assert [b.poll_failures for b in batches] == [1] * N  # each backed off, none given up
    assert all(b.status is BatchStatus.SUBMITTED for b in batches)
