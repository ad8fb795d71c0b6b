"""Several workers on one PostgreSQL: three `corthex worker` processes and a `corthex serve`
(which runs a worker loop too) share a 5,000-request job and ten chains; one worker is killed
with SIGKILL halfway, while it holds a lease. The others take over its work when the lease runs
out: no batch created twice, no result lost or doubled, one delivery per chain. A WebSocket
client of the server hears every chain end exactly once, whichever process ended it (the
workers' events reach the server by LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from pathlib import Path

from rel_harness import (
    EmulatorProcess,
    Server,
    Worker,
    WsClient,
    all_done,
    check_invariants,
    scalar,
    seed,
    settings_for,
    wait_until,
    worker_env,
)
from sqlalchemy import text

from corthex.domain.events import ChainDone
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


async def test_three_workers_one_killed_halfway(pg_url: str, tmp_path: Path, emulator_process: EmulatorProcess) -> None:
    started = time.monotonic()
    # leases sized for six busy processes on two cores; a dead worker's work waits this long
    env = worker_env(
        emulator_process,
        pg_url,
        tmp_path,
        CORTHEX_RESULT_CHUNK="250",
        CORTHEX_LOG_LEVEL="INFO",
        CORTHEX_LEASE_SECONDS="5",
    )
    server = Server(env, tmp_path / "serve.log")
    workers = [Worker(env, tmp_path / f"worker-{n}.log").start() for n in range(3)]
    try:
        await server.ready()
        async with WsClient(server.ws_url) as ws:
            await seed(pg_url, tmp_path, jobs=[REQUESTS], chains=CHAINS)
            await run(pg_url, tmp_path, emulator_process, workers, ws, started)
        assert server.stop() in (0, -signal.SIGTERM), server.text()[-3000:]  # uvicorn re-raises SIGTERM
        assert "Application shutdown complete" in server.text()
    finally:
        for w in workers:
            w.kill()
        server.stop()


async def run(
    pg_url: str, tmp_path: Path, emulator: EmulatorProcess, workers: list[Worker], ws: WsClient, started: float
) -> None:
    listener = await Engine(settings_for(pg_url, tmp_path)).__aenter__()  # hears every worker (NOTIFY)
    done_events: Counter[str] = Counter()
    listener.bus.subscribe(lambda e: done_events.update([e.data()["chain_id"]]), types=(ChainDone,))
    store = listener._store
    try:
        for w in workers:
            await w.ready()
        ids = {worker_id(w): w for w in workers}
        victim = await kill_one_halfway(store, ids)
        survivors = [w for w in workers if w is not victim]
        await wait_until(lambda: all_done(store), within=180, what="the survivors to finish everything")
        for w in survivors:
            assert await w.stop() == 0, w.tail()
        outcome = await check_invariants(store, emulator.stats(), tmp_path / "archive")
        recorded = await scalar(store, "SELECT count(*) FROM batches WHERE remote IS NOT NULL")
        chained = await scalar(
            store, "SELECT count(*) FROM requests r JOIN jobs j ON j.id = r.job_id WHERE j.source = 'chain'"
        )
        await wait_until(lambda: _true(len(done_events) == len(CHAINS)), within=10, what="every chain.done event")
        await wait_until(
            lambda: _true(len(ws.events("chain.done")) >= len(CHAINS)), within=10, what="chain.done on the WebSocket"
        )
        await asyncio.sleep(0.5)  # a duplicate would come now
        on_ws = Counter(m["data"]["chain_id"] for m in ws.events("chain.done"))
        print(
            f"\nmulti-worker: {outcome.requests} requests ({REQUESTS} + {chained} from chains), "
            f"{outcome.results} results, batches created {outcome.created} ({sum(outcome.created.values())}) "
            f"vs recorded {recorded}, duplicates 0, {outcome.chains} chains, {outcome.delivered} delivered, "
            f"chain.done on the WebSocket {sum(on_ws.values())} ({len(ws.messages)} messages, "
            f"{ws.reconnects} reconnects), {time.monotonic() - started:.1f}s"
        )
        assert sum(outcome.created.values()) == recorded  # every created batch is one we recorded, once
        assert outcome.results == REQUESTS + chained
        assert set(done_events.values()) == {1}, done_events  # each chain delivered (and announced) once
        chain_ids = await chain_ids_of(store)
        assert on_ws == Counter(dict.fromkeys(chain_ids, 1)), (
            on_ws
        )  # every chain's end reached the server's client once
    finally:
        await listener.__aexit__(None, None, None)


async def chain_ids_of(store: SqlStore) -> list[str]:
    async with store.engine.connect() as conn:
        return [r[0] for r in (await conn.execute(text("SELECT id FROM chains"))).all()]


async def _true(value: bool) -> bool:
    return value


async def kill_one_halfway(store: SqlStore, ids: dict[str | None, Worker]) -> Worker:
    """SIGKILL a worker holding a lease (on a batch, or else a chain) once some but not all
    results are in: from a quarter of the way, so that a run where `corthex serve` happened to
    take the biggest batches still has a worker to kill mid-flight."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        results = await scalar(store, "SELECT count(*) FROM results")
        if REQUESTS // 4 <= results < REQUESTS:
            async with store.engine.connect() as conn:
                owners = [
                    r[0]
                    for r in (
                        await conn.execute(
                            text(
                                "SELECT lease_owner, 0 AS k FROM batches WHERE lease_owner IS NOT NULL "
                                "UNION ALL SELECT lease_owner, 1 FROM chains WHERE lease_owner IS NOT NULL ORDER BY k"
                            )
                        )
                    ).all()
                ]
            owner = next((o for o in owners if o in ids and ids[o].alive()), None)
            if owner is not None:
                victim = ids[owner]
                victim.kill()
                print(f"\nkilled {owner} holding a lease, {results} results in")
                return victim
        await asyncio.sleep(0.02)
    raise AssertionError("never found a worker holding a lease halfway through")
