"""Batch-aware prompt caching on Anthropic (issue 17), through the engine, the real adapter and
the emulator, whose batch runs its requests concurrently (a cache write is read only by requests
processed after it): a priming batch of one request goes first, the rest of its cache group once
it has ended, and they read its cache; the job summary says what caching saved; a crash between
the priming batch and the rest loses nothing and sends nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corthex.domain.pricing import batch_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import Usage
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.testing import fast_settings

MODEL = "claude-sonnet-4-6"
SYSTEM = "너는 계약서를 검토해 위험 조항을 찾는 변호사다. You find the risky clauses in contracts. " * 60
N = 24


def lines(n: int = N) -> list[dict[str, object]]:
    return [
        {"custom_id": f"계약-{i}", "model": MODEL, "system": SYSTEM, "cache_system": True, "prompt": f"{i}번 계약서"}
        for i in range(n)
    ]


@pytest.fixture
def concurrent_batches(emulator: EmulatorServer) -> Iterator[None]:
    """The emulator runs a whole batch at once: no request of a batch reads another's write."""
    emulator.config.anthropic_cache_concurrency = 10_000
    yield
    emulator.config.anthropic_cache_concurrency = 1


def usage_of(line: dict[str, object]) -> Usage:
    usage = line["usage"]
    assert isinstance(usage, dict)
    return Usage(usage["input_tokens"], usage["output_tokens"], usage["cached_tokens"], usage["cache_write_tokens"])


def anthropic_batches(emulator: EmulatorServer) -> list[int]:
    return [b["requests"] for b in emulator.state.counters.batches["anthropic"]]


async def test_a_priming_batch_goes_first_and_the_rest_read_its_cache(
    engine: Engine, emulator: EmulatorServer, concurrent_batches: None
) -> None:
    before = len(anthropic_batches(emulator))
    report = await engine.submit(lines())
    await engine.wait(report.job_id, timeout=60)
    assert anthropic_batches(emulator)[before:] == [1, N - 1]  # the primer alone, then the rest together
    out = [line async for line in engine.results(report.job_id)]
    assert all(line["status"] == "succeeded" for line in out)
    usages = [usage_of(line) for line in out]
    assert sum(1 for u in usages if u.cache_write_tokens) == 1  # written once …
    assert sum(1 for u in usages if u.cached_tokens) == N - 1  # … and read by every other request
    summary = await engine.status(report.job_id)
    written = next(u for u in usages if u.cache_write_tokens)
    read = [u for u in usages if u.cached_tokens]
    plain = [Usage(u.input_tokens, u.output_tokens) for u in usages]
    priced = [
        Usage(u.input_tokens, u.output_tokens, u.cached_tokens, u.cache_write_tokens, 0, u.cache_write_tokens)
        for u in usages
    ]
    expected = sum(batch_cost(ProviderName.ANTHROPIC, MODEL, u) or 0 for u in plain) - sum(
        batch_cost(ProviderName.ANTHROPIC, MODEL, u) or 0 for u in priced
    )
    assert written and read and summary.cache_saving_usd > 0
    assert summary.cache_saving_usd == pytest.approx(expected, rel=1e-6)
    assert summary.to_dict()["cache_saving_usd"] == pytest.approx(expected, rel=1e-6)


async def test_without_priming_a_concurrent_batch_writes_the_cache_every_time(
    tmp_path: Path, emulator: EmulatorServer, concurrent_batches: None
) -> None:
    # what users report: 0% cache hits in a batch, cache-write prices paid by every request
    async with Engine(fast_settings(tmp_path, cache_priming=False)) as engine:
        report = await engine.submit(lines())
        await engine.wait(report.job_id, timeout=60)
        usages = [usage_of(line) async for line in engine.results(report.job_id)]
        assert all(u.cache_write_tokens and not u.cached_tokens for u in usages)
        assert (await engine.status(report.job_id)).cache_saving_usd < 0


async def test_a_crash_between_the_priming_batch_and_the_rest_loses_nothing(
    tmp_path: Path, emulator: EmulatorServer, concurrent_batches: None
) -> None:
    settings = fast_settings(tmp_path)
    before = len(anthropic_batches(emulator))
    async with Engine(settings) as first:
        report = await first.submit(lines())
        await first.step()  # the priming batch is created; the rest are held for it
        assert anthropic_batches(emulator)[before:] == [1]
        await first.step()  # nothing else goes out while the primer is open
        assert anthropic_batches(emulator)[before:] == [1]
    # the process dies here; a new one on the same database carries on
    async with Engine(settings) as second:
        await second.wait(report.job_id, timeout=60)
        out = [line async for line in second.results(report.job_id)]
    assert sorted(line["custom_id"] for line in out) == sorted(line["custom_id"] for line in lines())
    assert all(line["status"] == "succeeded" for line in out)
    assert anthropic_batches(emulator)[before:] == [1, N - 1]  # nothing sent twice
    assert sum(1 for line in out if usage_of(line).cached_tokens) == N - 1
