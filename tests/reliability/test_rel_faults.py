"""Faults at every provider call: upload, create, retrieve, results, cancel, list × 429 (with and
without retry-after), 500, a timeout, an answer after the timeout and a malformed body, passing
(once per provider) or persistent. The engine rides out what passes, and records a clear failure
for what does not, within a bounded time; never a hang, never a batch created twice, always one
result per request.

Every case runs four lanes at once: OpenAI (file upload, result file), Anthropic (inline create,
result stream), Gemini with a file (upload, result file download) and Gemini inline (results in
the batch itself), so each call × fault cell is met wherever that call exists. Each case prints
one `fault …` line (run with -s): the lanes that failed, the error types, the calls made to the
faulted operation and the time taken.

The emulator runs in a thread here (faults are switched per case); the engine is in-process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rel_harness import MODELS, batch_keys

from corthex.config import Settings
from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.providers.gemini import GeminiProvider
from corthex.testing import fast_settings

PROVIDERS = ("openai", "anthropic", "gemini")
LANES = ("openai", "anthropic", "gemini-file", "gemini-inline")
TIMEOUT = 0.4  #: the client's timeout; a `slow` fault waits longer than this
DEADLINE = 30.0  #: no case may take longer: nothing hangs

KINDS: dict[str, dict[str, Any]] = {
    "429": {"kind": "http", "status": 429},
    "429-retry-after": {"kind": "http", "status": 429, "retry_after": 0.05},
    "500": {"kind": "http", "status": 500},
    "timeout": {"kind": "slow", "delay": TIMEOUT * 2.5},  # not served before the client gives up
    "late": {"kind": "late", "delay": TIMEOUT * 2.5},  # served, answered after the client gave up
    "malformed": {"kind": "malformed"},
}
OPS = ("upload", "create", "retrieve", "results", "cancel", "list")

#: Persistent faults: which lanes' requests must end failed (with a clear error). Anthropic
#: uploads nothing; Gemini inline uploads nothing and reads its results from `retrieve`. A create
#: answered late has created the batch: it is found and adopted, so it succeeds (and is never
#: created a second time). A failed cancel leaves the batch to end by itself.
ALL = set(LANES)
MUST_FAIL: dict[tuple[str, str], set[str]] = {
    **{("upload", k): {"openai", "gemini-file"} for k in KINDS},
    **{("create", k): ALL for k in KINDS},
    ("create", "late"): set(),
    **{("retrieve", k): ALL for k in KINDS},
    **{("results", k): {"openai", "anthropic", "gemini-file"} for k in KINDS},
    **{("list", k): ALL for k in KINDS},
    **{("cancel", k): set() for k in KINDS},
}


@dataclass(frozen=True)
class Case:
    op: str
    kind: str
    persistent: bool

    @property
    def id(self) -> str:
        return f"{self.op}-{self.kind}-{'persistent' if self.persistent else 'passing'}"


CASES = [Case(op, kind, persistent) for op in OPS for kind in KINDS for persistent in (False, True)]


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the emulator (tests/conftest.py)."""


def settings(tmp_path: Path, case: Case) -> Settings:
    return fast_settings(
        tmp_path,
        poll_max=0.2,
        idle_recheck=0.05,
        submit_max_failures=3,
        poll_max_failures=3,
        poll_unreachable_minutes=0,  # give up after 3 failures, however short (the outage test waits one out)
        max_attempts=1 if case.persistent else 2,  # persistent: the first give-up is final
        # the SDKs' own retries honour retry-after; elsewhere the engine's backoff is what is tested
        provider_max_retries=1 if case.kind == "429-retry-after" else 0,
        provider_timeout=TIMEOUT,
    )


def add_faults(emulator: EmulatorServer, case: Case) -> None:
    spec = KINDS[case.kind]
    for provider in PROVIDERS:
        emulator.state.add_fault(Fault(provider, case.op, times=None if case.persistent else 1, **spec))
        if case.op == "list":  # `list` is called to look for a batch whose creation is unconfirmed
            batches = 2 if provider == "gemini" else 1  # Gemini's file and inline lanes
            emulator.state.add_fault(Fault(provider, "create", kind="http", status=500, times=batches))


#: two requests per lane; Gemini batches of more than one request go as a file (see `gemini_lanes`)
REQUESTS = [{"custom_id": f"r{i}", "model": MODELS[i % 3], "prompt": f"question {i}"} for i in range(6)] + [
    {"custom_id": "r6", "model": "gemini-2.5-flash-lite", "prompt": "question 6"}
]
LANE_OF_MODEL = {
    "gpt-5-mini": "openai",
    "claude-haiku-4-5": "anthropic",
    "gemini-2.5-flash": "gemini-file",
    "gemini-2.5-flash-lite": "gemini-inline",
}
LANE = {r["custom_id"]: LANE_OF_MODEL[r["model"]] for r in REQUESTS}


def gemini_lanes(engine: Engine, tmp_path: Path, settings: Settings) -> None:
    """Gemini batches of two or more requests go as an uploaded file (always, by default); with
    inline switched on, the single flash-lite request goes inline."""
    engine._ctx.providers[ProviderName.GEMINI] = GeminiProvider(
        tmp_path / "gemini",
        max_retries=settings.provider_max_retries,
        timeout=TIMEOUT,
        inline=True,
        inline_max_requests=1,
    )


async def run_case(engine: Engine, emulator: EmulatorServer, case: Case) -> str:
    if case.op != "cancel":
        add_faults(emulator, case)
        report = await engine.submit(REQUESTS)
        await engine.wait(report.job_id, timeout=DEADLINE)
        return report.job_id
    # cancel: the batches never end until canceled; the cancel call itself meets the fault
    for provider in PROVIDERS:
        emulator.state.add_fault(Fault(provider, "create", kind="never_end"))
    report = await engine.submit(REQUESTS)
    await engine.step()
    add_faults(emulator, case)
    await engine.cancel(report.job_id)
    emulator.state.clear_faults()  # releases the held batches (and the fault): they end now
    await engine.wait(report.job_id, timeout=DEADLINE)
    return report.job_id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_fault(case: Case, tmp_path: Path, emulator: EmulatorServer) -> None:
    started = time.monotonic()
    config = settings(tmp_path, case)
    async with Engine(config) as engine:
        gemini_lanes(engine, tmp_path, config)
        job_id = await run_case(engine, emulator, case)
        summary = await engine.status(job_id)
        lines = [line async for line in engine.results(job_id)]
        adopted = {b.id for b in await engine.batches() if b.remote is not None}
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE
    # one result per request, whatever happened
    assert sorted(line["custom_id"] for line in lines) == sorted(r["custom_id"] for r in REQUESTS)
    assert summary.completed_at is not None
    # never a batch created twice, nor one created and then left (paid for, never read)
    created = batch_keys(emulator.state.stats())
    for provider, keys in created.items():
        assert not [k for k, n in Counter(keys).items() if n > 1], f"{provider} batch created twice"
    assert {k for keys in created.values() for k in keys} <= adopted, "a created batch was left behind"
    failed = {LANE[line["custom_id"]] for line in lines if line["status"] != "succeeded"}
    stats = emulator.state.stats()
    calls = {p: stats[p]["calls"].get(case.op, 0) for p in PROVIDERS}
    errors = sorted({line["error"]["type"] for line in lines if line["status"] != "succeeded"})
    print(
        f"\nfault {case.id}: failed lanes {sorted(failed) or '-'}, errors {errors or '-'}, "
        f"{case.op} calls {calls}, created {[stats[p]['batches_created'] for p in PROVIDERS]}, "
        f"{time.monotonic() - started:.1f}s"
    )
    for line in lines:  # a failure says what failed
        if line["status"] != "succeeded":
            assert line["error"] and line["error"]["type"] and line["error"]["message"], line
    if case.op == "cancel":
        assert summary.status.value == "canceled"
        assert {line["status"] for line in lines} <= {"canceled", "succeeded"}
    elif case.persistent:
        assert failed == MUST_FAIL[(case.op, case.kind)], lines
        assert all(n <= 12 for n in calls.values()), calls  # retried within limits, then given up
    else:
        assert failed == set(), lines


# --- batches that never end (W6, W7) -----------------------------------------------------------


def age_settings(tmp_path: Path, max_attempts: int) -> Settings:
    return fast_settings(
        tmp_path,
        poll_max=0.2,
        idle_recheck=0.05,
        batch_max_age_hours=1 / 3600,  # one second
        max_attempts=max_attempts,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_batch_that_never_ends_is_given_up_canceled_and_its_requests_retried(
    provider: str, tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(Fault(provider, "create", kind="never_end", times=1))
    async with Engine(age_settings(tmp_path, max_attempts=2)) as engine:
        report = await engine.submit([r for r in REQUESTS if r["model"] == MODELS[PROVIDERS.index(provider)]])
        summary = await engine.wait(report.job_id, timeout=DEADLINE)
        lines = [line async for line in engine.results(report.job_id)]
        batches = await engine.batches()  # the given-up one holds none of the job's requests now
    assert summary.succeeded == len(lines) == 2 and {line["attempts"] for line in lines} == {2}
    given_up = [b for b in batches if b.raw_status == "given_up"]
    assert len(given_up) == 1 and "still open after" in (given_up[0].error or "")
    assert emulator.state.stats()[provider]["calls"].get("cancel", 0) == 1  # it was canceled, not left running


async def test_a_batch_that_never_ends_with_no_attempts_left_is_reported_expired(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(Fault("anthropic", "create", kind="never_end", times=1))
    async with Engine(age_settings(tmp_path, max_attempts=1)) as engine:
        report = await engine.submit([r for r in REQUESTS if r["model"] == "claude-haiku-4-5"])
        summary = await engine.wait(report.job_id, timeout=DEADLINE)
        lines = [line async for line in engine.results(report.job_id)]
    assert summary.completed_at is not None and len(lines) == 2
    assert {line["status"] for line in lines} == {"expired"}, lines
    assert all("still open after" in line["error"]["message"] for line in lines), lines
    assert emulator.state.stats()["anthropic"]["calls"].get("cancel", 0) == 1


async def test_a_chain_whose_step_never_ends_still_delivers_W6(tmp_path: Path, emulator: EmulatorServer) -> None:
    for provider in PROVIDERS:
        emulator.state.add_fault(Fault(provider, "create", kind="never_end"))
    async with Engine(age_settings(tmp_path, max_attempts=1)) as engine:
        chain = await engine.chains.start("Plan the launch of our new mobile app backend")
        deadline = time.monotonic() + DEADLINE
        while (await engine._store.chains.get(chain.id)).status.value == "running":
            assert time.monotonic() < deadline, "the chain stalled"
            await engine.step()
            await asyncio.sleep(0.05)
        done = await engine._store.chains.get(chain.id)
    assert done.status.value == "completed" and done.report
    assert len(list((tmp_path / "archive").glob("*.md"))) == 1
