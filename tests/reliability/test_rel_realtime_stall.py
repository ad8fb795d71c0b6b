"""A stalled realtime chain process (issue 12). Its event loop blocked past its chain lease (a
long CPU-bound stretch, a loaded host), a worker took the chain over and sent the calls still
in flight a second time: each paid for twice (2 in the chaos run's baseline). The realtime job
is now leased to its sender and the lease is renewed from a thread of the sender's own, so a
live but busy sender keeps it; only a dead one loses it (test_rel_realtime_kill)."""

from __future__ import annotations

from pathlib import Path

from rel_harness import EmulatorProcess, Worker, all_done, check_invariants, scalar, wait_until, worker_env
from test_rel_realtime_kill import HELD_PROVIDER, realtime_calls, start_chain

from corthex.store.sql import SqlStore


async def test_a_stalled_realtime_sender_keeps_its_calls_and_none_is_sent_twice(
    tmp_path: Path, emulator_process: EmulatorProcess
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stall.db'}"
    # whichever process sends the step's calls (the chain's own, or the worker if it took the chain
    # first) blocks its event loop for 4 s (two leases) once its first answer is written, while
    # another call is still out at the provider; the other process is alive to take over
    stall = {"CORTHEX_STALL_AT": "after_realtime_answer:4", "CORTHEX_LEASE_SECONDS": "2"}
    env = worker_env(emulator_process, url, tmp_path, CORTHEX_PROVIDER_TIMEOUT="60", **stall)
    worker = Worker(env, tmp_path / "worker.log").start()
    store = await SqlStore.open(url)
    chain = None
    try:
        await worker.ready()
        emulator_process.add_fault(provider=HELD_PROVIDER, op="realtime", kind="slow", delay=6, times=1)
        chain = start_chain(env, tmp_path / "chain.log", "--wait")
        await wait_until(lambda: all_done(store), within=90, what="the chain to finish")
        assert chain.wait(30) == 0, (tmp_path / "chain.log").read_text()
        logs = (tmp_path / "chain.log").read_text() + worker.text()
        assert "CORTHEX_STALLED_AT" in logs
        assert await worker.stop() == 0, worker.tail()
        results = await scalar(store, "SELECT count(*) FROM results WHERE batch_id LIKE 'rt_%'")
        sent = realtime_calls(emulator_process.stats())
        assert sent == results, f"{sent} realtime calls for {results} answers: {sent - results} paid twice"
        await check_invariants(store, emulator_process.stats(), tmp_path / "archive")
    finally:
        if chain is not None and chain.poll() is None:
            chain.kill()
        await worker.stop() if worker.alive() else None
        await store.close()
