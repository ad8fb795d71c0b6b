"""A worker whose clock runs ten minutes ahead, beside a creator whose create call is slow
(issue 12, item 1). Judged by its own clock, every lease of the creator has run out: it used to
take over the intent while the creation was in flight, adopt the batch the creator had just
created, and the creator then "canceled the duplicate" — the one and only batch — so that its
requests went out again, paid twice. Leases and due times now follow the database's clock, an
intent whose creation may be in flight is left alone for the creation window, and a "duplicate"
that is the recorded batch is never canceled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rel_harness import (
    EmulatorProcess,
    Worker,
    all_done,
    check_invariants,
    scalar,
    settings_for,
    wait_until,
    worker_env,
)

from corthex.engine.engine import Engine

#: libfaketime, preloaded into the worker itself (the `faketime` wrapper would stand between the
#: worker and the signals the harness sends it)
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
pytestmark = pytest.mark.skipif(
    not LIBFAKETIME.exists(), reason="faketime (Debian; scripts/system-deps.sh) not installed"
)

REQUESTS = 30
HELD = 6.0  #: the emulator holds the create call's answer this long (the batch exists meanwhile)


async def test_a_worker_ten_minutes_ahead_leaves_a_creation_in_flight_alone(
    pg_url: str, tmp_path: Path, emulator_process: EmulatorProcess
) -> None:
    env = worker_env(emulator_process, pg_url, tmp_path, CORTHEX_CREATION_WINDOW="30")
    emulator_process.add_fault(provider="gemini", op="create", kind="late", delay=HELD, times=1)
    creator = Worker(env, tmp_path / "creator.log").start()
    ahead = Worker({**env, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": "+10m"}, tmp_path / "ahead.log")
    try:
        await creator.ready()
        async with Engine(settings_for(pg_url, tmp_path)) as engine:
            job = await engine.submit(
                [{"custom_id": f"k{i}", "model": "gemini-2.5-flash", "prompt": f"질문 {i}"} for i in range(REQUESTS)]
            )

            async def create_in_flight() -> bool:
                return emulator_process.stats()["faults"]["triggered"].get("gemini:late", 0) == 1

            await wait_until(create_in_flight, within=30, what="the creator's create call to be held")
            ahead.start()
            await ahead.ready()
            await wait_until(lambda: all_done(engine._store), within=60, what="the job to finish")
            for worker in (creator, ahead):  # each finishes the step in hand (the held create too)
                assert await worker.stop() == 0, worker.tail()
            summary = await engine.status(job.job_id)
            assert summary.succeeded == REQUESTS, summary
            resent = await scalar(engine._store, "SELECT count(*) FROM requests WHERE attempts > 1")
            assert resent == 0, f"{resent} requests were sent twice"
            stats = emulator_process.stats()
            assert stats["gemini"]["batches_created"] == 1
            assert stats["gemini"]["calls"].get("cancel", 0) == 0, "the one batch was canceled as a 'duplicate'"
            await check_invariants(engine._store, stats, tmp_path / "archive")
        assert re.search(r"clock is 60\d\.\ds ahead of the database's", ahead.text()), ahead.tail()
    finally:
        for worker in (creator, ahead):
            if worker.alive():
                worker.kill()
