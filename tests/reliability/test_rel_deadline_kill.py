"""Kill -9 while a job is moved to realtime for its deadline (issue 17): its requests are taken
into the job's pseudo-batch, then answered one by one at the full price. A worker killed after
the take (nothing sent yet) or after some answers are written leaves no request lost and none
answered twice; the restarted worker sends exactly the requests still without an answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from rel_harness import (
    EmulatorProcess,
    Worker,
    all_done,
    check_invariants,
    requests_for,
    scalar,
    wait_until,
    worker_env,
)
from test_rel_realtime_kill import realtime_calls

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.store.sql import SqlStore

TOTAL = 9


@pytest.mark.parametrize("crash_at", ["after_deadline_take", "after_deadline_answer:2"])
async def test_a_kill_while_moving_to_realtime_loses_nothing_and_pays_nothing_twice(
    tmp_path: Path, emulator_process: EmulatorProcess, crash_at: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'deadline.db'}"
    env = worker_env(emulator_process, url, tmp_path)
    settings = Settings(database_url=url, data_dir=tmp_path / "seed", archive_dir=tmp_path / "archive")
    async with Engine(settings) as engine:  # no turnaround seen yet: a new batch would end too late
        job_id = (await engine.submit(requests_for("dl", TOTAL), deadline="2m")).job_id
    store = await SqlStore.open(url)
    try:
        doomed = Worker(env, tmp_path / "doomed.log", crash_at=crash_at).start()
        assert await doomed.wait(60) != 0, doomed.tail()
        assert f"CORTHEX_CRASHED_AT {crash_at.split(':')[0]}" in doomed.text(), doomed.tail()
        answered = await scalar(store, "SELECT count(*) FROM results")
        sent_before = realtime_calls(emulator_process.stats())
        assert answered == 0 if crash_at == "after_deadline_take" else answered >= 2
        survivor = Worker(env, tmp_path / "survivor.log").start()
        await wait_until(lambda: all_done(store), within=60, what="the restarted worker to finish the job")
        assert await survivor.stop() == 0, survivor.tail()
        await check_invariants(store, emulator_process.stats(), tmp_path / "archive")
        sent_after = realtime_calls(emulator_process.stats()) - sent_before
        assert sent_after == TOTAL - answered, f"{sent_after} calls after the restart for {TOTAL - answered} unanswered"
        tiers = await scalar(store, f"SELECT count(*) FROM results WHERE tier IS NOT NULL AND job_id = '{job_id}'")
        assert tiers == TOTAL
        assert await scalar(store, "SELECT count(*) FROM batches") == 0  # no batch was ever created
    finally:
        await store.close()
