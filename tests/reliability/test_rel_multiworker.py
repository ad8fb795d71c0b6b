"""Several workers on one PostgreSQL: three `corthex worker` processes share a 5,000-request job
and ten chains; one is killed with SIGKILL halfway, while it holds a lease. The others take over
its work when the lease runs out: no batch created twice, no result lost or doubled, one delivery
per chain."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

from rel_harness import (
    EmulatorProcess,
    Worker,
    all_done,
    check_invariants,
    scalar,
    seed,
    settings_for,
    wait_until,
    worker_env,
)

from corthex.engine.engine import Engine
from corthex.store.sql import SqlStore

REQUESTS = 5000
CHAINS = [
    "Plan the launch of our new mobile app backend",
    "Summarise the week for me",
    "Write a short note about our hiring plan",
    "What should we do next quarter?",
    "Review the backend API design",
    "Draft a press release for the launch",
    "Estimate next year's cloud costs",
    "How do we improve customer support?",
    "Prepare a risk review of our contracts",
    "Plan the frontend redesign",
]


def worker_id(worker: Worker) -> str | None:
    found = re.search(r"worker (w_[0-9a-f]+) on", worker.log.read_text(errors="replace"))
    return found.group(1) if found else None


async def test_three_workers_one_killed_halfway(pg_url: str, tmp_path: Path, emulator: EmulatorProcess) -> None:
    started = time.monotonic()
    await seed(pg_url, tmp_path, jobs=[REQUESTS], chains=CHAINS)
    # leases sized for six busy processes on two cores; a dead worker's work waits this long
    env = worker_env(
        emulator, pg_url, tmp_path, CORTHEX_RESULT_CHUNK="250", CORTHEX_LOG_LEVEL="INFO", CORTHEX_LEASE_SECONDS="5"
    )
    workers = [Worker(env, tmp_path / f"worker-{n}.log").start() for n in range(3)]
    listener = await Engine(settings_for(pg_url, tmp_path)).__aenter__()  # hears every worker (NOTIFY)
    done_events: Counter[str] = Counter()
    listener.bus.subscribe(lambda e: done_events.update([e.data["chain_id"]] if e.type == "chain.done" else []))
    store = listener.store
    try:
        for w in workers:
            await w.ready()
        ids = {worker_id(w): w for w in workers}
        victim = await kill_one_halfway(store, ids)
        survivors = [w for w in workers if w is not victim]
        await wait_until(lambda: all_done(store), 180, "the survivors to finish everything")
        for w in survivors:
            assert await w.stop() == 0, w.tail()
        outcome = await check_invariants(store, emulator.stats(), tmp_path / "archive")
        recorded = await scalar(store, "SELECT count(*) FROM batches WHERE remote IS NOT NULL")
        print(
            f"\nmulti-worker: {outcome.requests} requests, {outcome.results} results, "
            f"batches created {outcome.created} ({sum(outcome.created.values())}) vs recorded {recorded}, "
            f"{outcome.chains} chains, {outcome.delivered} delivered, {time.monotonic() - started:.1f}s"
        )
        assert sum(outcome.created.values()) == recorded  # every created batch is one we recorded, once
        chained = await scalar(
            store, "SELECT count(*) FROM requests r JOIN jobs j ON j.id = r.job_id WHERE j.source = 'chain'"
        )
        assert outcome.results == REQUESTS + chained
        await wait_until(lambda: _true(len(done_events) == len(CHAINS)), 10, "every chain.done event")
        assert set(done_events.values()) == {1}, done_events  # each chain delivered (and announced) once
    finally:
        for w in workers:
            w.kill()
        await listener.__aexit__(None, None, None)


async def _true(value: bool) -> bool:
    return value


async def kill_one_halfway(store: SqlStore, ids: dict[str | None, Worker]) -> Worker:
    """SIGKILL the worker holding a lease once some but not all results are in."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        results = await scalar(store, "SELECT count(*) FROM results")
        owner = await scalar(store, "SELECT lease_owner FROM batches WHERE lease_owner IS NOT NULL LIMIT 1")
        if owner in ids and REQUESTS // 2 <= results < REQUESTS:
            victim = ids[owner]
            victim.kill()
            print(f"\nkilled {owner} holding a lease, {results} results in")
            return victim
        await asyncio.sleep(0.02)
    raise AssertionError("never found a worker holding a lease halfway through")
