"""An outage during submission is waited out as polling waits one out (issue 12 item 6).

Every call of one operation answers 429 or 5xx for a few seconds, then the provider is back.
The settings are those of a real deployment shrunk to seconds: `submit_max_failures=3` (the
old rule gave up after 3 failed creations, here 0.1 + 0.2 s) and `poll_unreachable_minutes`
of 6 s. Every request must succeed, and no batch may be created twice. A refusal (401, 400) is
not an outage: it still fails after `submit_max_failures` tries, at once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from corthex.config import Settings
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.testing import fast_settings

OUTAGE = 2.5  #: seconds every call of the faulted operation fails
SPAN = 6.0  #: poll_unreachable_minutes, in seconds: failures in a row must span this to give up
DEADLINE = 30.0

MODEL = {"openai": "gpt-5-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
REQUESTS = {
    provider: [
        {"custom_id": f"{provider}-{i}", "model": model, "prompt": f"질문 {i}: 서울의 날씨는?"} for i in range(4)
    ]
    for provider, model in MODEL.items()
}


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the in-process emulator (tests/conftest.py)."""


def patient_settings(tmp_path: Path) -> Settings:
    return fast_settings(
        tmp_path,
        submit_backoff=0.1,
        submit_max_failures=3,
        poll_unreachable_minutes=SPAN / 60,
        provider_timeout=2.0,
        creation_window=1.0,  # an unconfirmed creation is looked for this soon (the emulator answers in ms)
        max_attempts=1,  # a second attempt would hide a request failed for good
    )


def _triggered(emulator: EmulatorServer) -> int:
    return sum(emulator.state.stats()["faults"]["triggered"].values())


async def _clear_after(emulator: EmulatorServer, seconds: float) -> None:
    """Clear the faults `seconds` after the first call met one (an SDK's first import takes a
    while: the outage is timed from the first failed call, not from the start), and not before
    it was met more often than `submit_max_failures` (on a loaded machine three slow calls can
    fill the seconds)."""
    while not _triggered(emulator):  # noqa: ASYNC110 - the emulator has no event for it
        await asyncio.sleep(0.02)
    await asyncio.sleep(seconds)
    while _triggered(emulator) < 4:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    emulator.state.clear_faults()


async def _recorded_remote_ids(engine: Engine, job_id: str) -> list[str]:
    return [b.remote.remote_id for b in await engine.batches(job_id) if b.remote is not None]


#: (provider, operation, status): "certainly not created" (the upload failed; create answered
#: 429) and "maybe created" (create answered 5xx: the batch is looked for, not found, and
#: created again: each round takes a creation window, so that outage is 5 failed creates in a
#: row rather than seconds); "*": every call fails, the looks too
OUTAGES = [
    ("openai", "upload", 500, None),
    ("openai", "*", 429, None),
    ("anthropic", "create", 429, None),
    ("anthropic", "create", 503, 5),
    ("gemini", "create", 500, 5),
]


@pytest.mark.parametrize(("provider", "op", "status", "times"), OUTAGES)
async def test_an_outage_during_submission_is_waited_out_and_nothing_is_created_twice(
    tmp_path: Path, emulator: EmulatorServer, provider: str, op: str, status: int, times: int | None
) -> None:
    emulator.state.add_fault(Fault(provider, op, kind="http", status=status, times=times))
    started = time.monotonic()
    clearing = asyncio.create_task(_clear_after(emulator, OUTAGE if times is None else DEADLINE))
    async with Engine(patient_settings(tmp_path)) as engine:
        report = await engine.submit(REQUESTS[provider])
        summary = await engine.wait(report.job_id, timeout=DEADLINE)
        remote_ids = await _recorded_remote_ids(engine, report.job_id)
        lines = [line async for line in engine.results(report.job_id)]
    clearing.cancel()
    stats = emulator.state.stats()
    elapsed = time.monotonic() - started
    print(f"outage {provider} {op} {status}: {elapsed:.1f}s, calls {stats[provider]['calls']}, {stats['faults']}")
    assert summary.succeeded == 4, [line["error"] for line in lines]
    assert sorted(line["custom_id"] for line in lines) == sorted(r["custom_id"] for r in REQUESTS[provider])
    assert sum(stats["faults"]["triggered"].values()) >= 4, "the outage was met, more often than submit_max_failures"
    assert stats[provider]["batches_created"] == len(remote_ids) == len(set(remote_ids)) == 1


# a 401 is a setup error (issue 16): it fails at once; another refusal after submit_max_failures
@pytest.mark.parametrize(
    ("provider", "op", "status", "calls"), [("openai", "upload", 401, 1), ("anthropic", "create", 400, 3)]
)
async def test_a_refusal_during_submission_still_fails_fast(
    tmp_path: Path, emulator: EmulatorServer, provider: str, op: str, status: int, calls: int
) -> None:
    emulator.state.add_fault(Fault(provider, op, kind="http", status=status))
    started = time.monotonic()
    async with Engine(patient_settings(tmp_path)) as engine:
        report = await engine.submit(REQUESTS[provider])
        summary = await engine.wait(report.job_id, timeout=DEADLINE)
        lines = [line async for line in engine.results(report.job_id)]
    elapsed = time.monotonic() - started
    stats = emulator.state.stats()
    assert summary.failed == 4 and {line["status"] for line in lines} == {"failed"}
    assert all(f"({status})" in line["error"]["message"] for line in lines), lines
    assert stats[provider]["calls"][op] == calls  # not the outage's patience
    assert elapsed < SPAN, elapsed
    assert stats[provider]["batches_created"] == 0
