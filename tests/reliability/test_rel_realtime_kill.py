"""Kill -9 during a realtime chain step (issue 12, item 2). The step's calls are answered one by
one at the full realtime price; their results used to be written only once every call of the
step was back, so a kill in between lost the answers already paid for and the restarted worker
sent every call again (19 specialist calls paid twice). Each answer is now written as it
arrives: after the restart only the calls without an answer go out."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from rel_harness import CORTHEX, EmulatorProcess, Worker, all_done, check_invariants, scalar, wait_until, worker_env

from corthex.store.sql import SqlStore

COMMAND = "Plan the launch of our new mobile app backend"  # keywords: the CTO, four specialists
HELD_PROVIDER = "openai"  #: the backend specialist's model (gpt-5.2): the call left out at the kill


def realtime_calls(stats: dict[str, dict[str, object]]) -> int:
    return sum(int(stats[p]["calls"].get("realtime", 0)) for p in ("openai", "anthropic", "gemini"))  # type: ignore[attr-defined]


def start_chain(env: dict[str, str], log: Path, *flags: str) -> subprocess.Popen[bytes]:
    """`corthex chain --realtime` runs the whole chain in its own process."""
    with log.open("ab") as out:
        return subprocess.Popen([*CORTHEX, "chain", "--realtime", *flags, COMMAND], env=env, stdout=out, stderr=out)


async def test_a_kill_during_a_realtime_step_resends_only_the_unanswered_calls(
    tmp_path: Path, emulator_process: EmulatorProcess
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rt.db'}"
    env = worker_env(emulator_process, url, tmp_path, CORTHEX_PROVIDER_TIMEOUT="60")  # the held call stays out
    # the backend specialist's call is held; the CTO (anthropic) and the other specialists answer
    emulator_process.add_fault(provider=HELD_PROVIDER, op="realtime", kind="slow", delay=8, times=1)
    chain = start_chain(env, tmp_path / "chain.log")
    store = await SqlStore.open(url)
    try:

        async def specialists_out() -> bool:  # the CTO's instructions and all four specialists' calls
            assert chain.poll() is None, (tmp_path / "chain.log").read_text()
            stats = emulator_process.stats()
            return stats["faults"]["triggered"].get(f"{HELD_PROVIDER}:slow", 0) == 1 and realtime_calls(stats) >= 5

        await wait_until(specialists_out, within=60, what="the specialists' calls to go out while one is held")
        await asyncio.sleep(1.0)  # the three answered ones are written meanwhile (or lost, before the fix)
        chain.kill()
        chain.wait(10)
        sent_before = realtime_calls(emulator_process.stats())
        emulator_process.clear_faults()
        survivor = Worker(env, tmp_path / "worker.log").start()
        await wait_until(lambda: all_done(store), within=60, what="the restarted worker to finish the chain")
        assert await survivor.stop() == 0, survivor.tail()
        results = await scalar(store, "SELECT count(*) FROM results WHERE batch_id LIKE 'rt_%'")
        sent = realtime_calls(emulator_process.stats())
        # every answer was asked for once; the one call held at the kill went out once more
        assert sent == results + 1, f"{sent} realtime calls for {results} answers ({sent_before} before the kill)"
        await check_invariants(store, emulator_process.stats(), tmp_path / "archive")
    finally:
        if chain.poll() is None:
            chain.kill()
        await store.close()
