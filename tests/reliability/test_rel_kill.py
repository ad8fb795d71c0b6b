"""Kill -9 anywhere: `corthex worker` is killed with SIGKILL at each crash point, while a provider
call is in flight (the emulator holds its answer: the upload or the create is done there, the
worker never hears of it), and at random moments; then restarted and left to finish. Then every
request has exactly one result, no batch was created twice at the emulator (its own record), and
every chain was delivered once. Each scenario prints one `kill …` line (run with -s)."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest
from rel_harness import EmulatorProcess, Outcome, Worker, all_done, check_invariants, seed, wait_until, worker_env

from corthex.store.sql import SqlStore

JOBS = [18]  # 6 requests per provider: result chunks of 4 leave a middle to die in
CHAINS = ["Plan the launch of our new mobile app backend", "Summarise the week for me"]  # keyword / classifier

#: point:hit — each is reached in every run of the workload above
KILL_POINTS = [
    "before_create:1",
    "after_upload:1",
    "after_create:1",
    "after_create:3",
    "after_submitted:2",
    "during_download:1",
    "after_result_chunk:1",
    "before_close:2",
    "between_steps:1",
    "between_steps:3",
    "after_step_claimed:2",
    "during_delivery:1",
    "after_delivery:1",
    "before_finish:2",
]
#: killed from outside while the emulator holds the answer to this call (it has done the work)
IN_FLIGHT = ["inflight:openai:upload", "inflight:gemini:create", "inflight:anthropic:create"]
PG_KILL_POINTS = ["after_create:1", "after_result_chunk:1", "between_steps:1", "after_delivery:1"]


async def run_scenario(url: str, tmp_path: Path, emulator: EmulatorProcess, crash_at: str | None) -> None:
    started = time.monotonic()
    await seed(url, tmp_path, jobs=JOBS, chains=CHAINS)
    env = worker_env(emulator, url, tmp_path)
    log = tmp_path / "worker-crashed.log"
    if crash_at is not None and crash_at.startswith("inflight:"):
        await kill_in_flight(env, log, emulator, crash_at)
    elif crash_at is not None:
        crashed = Worker(env, log, crash_at).start()
        assert await crashed.wait(60) == -signal.SIGKILL, crashed.tail()
        point = crash_at if ":" in crash_at else f"{crash_at}:1"
        assert f"CORTHEX_CRASHED_AT {point}" in log.read_text(), crashed.tail()
    else:  # timed kills at random moments, three in a row (seeded: the same moments every run)
        rng = random.Random(5)
        for n in range(3):
            victim = Worker(env, tmp_path / f"worker-killed-{n}.log").start()
            await _sleep_or_exit(victim, rng.uniform(0.5, 3.5))
            victim.kill()
    outcome = await finish(url, env, tmp_path, emulator)
    survivor = (tmp_path / "worker-survivor.log").read_text(errors="replace")
    adopted, recreated = survivor.count("adopting batch"), survivor.count("was never created at")
    if crash_at is not None and (crash_at.startswith("after_create") or crash_at.endswith(":create")):
        assert adopted >= 1, "the batch created before the kill was not adopted"  # found by its key
    store = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"\nkill {crash_at or 'random x3'} on {store}: restarted; {outcome.requests} requests, "
        f"{outcome.results} results (one each), batches created {outcome.created} (none twice; "
        f"{adopted} orphan(s) adopted, {recreated} intent(s) created after the restart), "
        f"{outcome.chains} chains, {outcome.delivered} delivered once; {time.monotonic() - started:.1f}s"
    )


async def kill_in_flight(env: dict[str, str], log: Path, emulator: EmulatorProcess, spec: str) -> None:
    """SIGKILL the worker while the emulator holds its answer to `provider`'s `op` call: the
    emulator has stored the file or created the batch, the worker never learns its id."""
    _, provider, op = spec.split(":")
    emulator.add_fault(provider=provider, op=op, kind="late", delay=10, times=1)
    counter = "files_uploaded" if op == "upload" else "batches_created"
    victim = Worker(env, log).start()
    try:

        async def done_there() -> bool:
            assert victim.alive(), victim.tail()
            return int(emulator.stats()[provider][counter]) >= 1

        await wait_until(done_there, within=60, what=f"the {provider} {op} to reach the emulator")
    finally:
        victim.kill()
    emulator.clear_faults()


async def _sleep_or_exit(worker: Worker, seconds: float) -> None:
    await asyncio.sleep(seconds)
    assert worker.alive(), worker.tail()


async def finish(url: str, env: dict[str, str], tmp_path: Path, emulator: EmulatorProcess) -> Outcome:
    store = await SqlStore.open(url)
    survivor = Worker(env, tmp_path / "worker-survivor.log").start()
    try:
        await wait_until(
            lambda: _done_or_dead(store, survivor), within=90, what="the restarted worker to finish everything"
        )
        assert survivor.alive(), survivor.tail()
        assert await survivor.stop() == 0, survivor.tail()
        return await check_invariants(store, emulator.stats(), tmp_path / "archive")
    finally:
        survivor.kill()
        await store.close()


async def _done_or_dead(store: SqlStore, worker: Worker) -> bool:
    return not worker.alive() or await all_done(store)


@pytest.mark.parametrize("crash_at", [*KILL_POINTS, *IN_FLIGHT, None], ids=[*KILL_POINTS, *IN_FLIGHT, "random-sigkill"])
async def test_kill_9_on_sqlite(crash_at: str | None, tmp_path: Path, emulator_process: EmulatorProcess) -> None:
    await run_scenario(f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}", tmp_path, emulator_process, crash_at)


@pytest.mark.parametrize("crash_at", [*PG_KILL_POINTS, None], ids=[*PG_KILL_POINTS, "random-sigkill"])
async def test_kill_9_on_postgresql(
    crash_at: str | None, pg_url: str, tmp_path: Path, emulator_process: EmulatorProcess
) -> None:
    await run_scenario(pg_url, tmp_path, emulator_process, crash_at)
