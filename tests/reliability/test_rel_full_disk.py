"""A full disk backs the worker off instead of a hot loop (issue 12 item 7).

The worker loop runs (background polls, as `corthex worker`) while every write of results to
the database fails with SQLite's "database or disk is full" (and so does recording a batch's
backoff): before, the ended batch was due again at once, its results downloaded again and
again with two tracebacks each (219 downloads and 21,237 log lines in 30 s). Now the worker
pauses with one line per backoff, downloads once per pause, and once the disk has room again
collects every result, none twice; the SQLite WAL is emptied after a collection, so a worker
recovers with little room on the disk.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.testing import fast_settings

FULL = 3.0  #: seconds the disk stays full
REQUESTS = [{"custom_id": f"k{i}", "model": "gpt-5-mini", "prompt": f"질문 {i}: 디스크가 가득 찼다"} for i in range(6)]


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the in-process emulator (tests/conftest.py)."""


class FullDisk:
    """Makes the store's writes of results (and, once `all_writes`, of batch backoffs) fail as
    on a full disk."""

    def __init__(self, engine: Engine) -> None:
        self.full, self.all_writes = True, False
        store = engine._store
        store.record_results = self._failing(store.record_results, always=True)  # type: ignore[method-assign]
        store.back_off = self._failing(store.back_off, always=False)  # type: ignore[method-assign]

    def _failing(self, write, *, always: bool):  # type: ignore[no-untyped-def]
        async def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            if self.full and (always or self.all_writes):
                raise OperationalError(
                    "INSERT INTO results ...", {}, sqlite3.OperationalError("database or disk is full")
                )
            return await write(*args, **kwargs)

        return wrapped


def count_downloads(engine: Engine) -> list[float]:
    """The times of every full result download of the OpenAI adapter."""
    provider = engine._ctx.providers[ProviderName.OPENAI]
    downloads: list[float] = []
    results = provider.results

    def counted(ref, **options):  # type: ignore[no-untyped-def]
        downloads.append(time.monotonic())
        return results(ref, **options)

    provider.results = counted  # type: ignore[method-assign]
    return downloads


async def test_a_full_disk_backs_off_with_one_line_per_backoff_and_no_download_loop(
    tmp_path: Path, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(tmp_path, poll_initial=0.2, poll_max=1.0, idle_recheck=0.05)
    async with Engine(settings) as engine:
        report = await engine.submit(REQUESTS)
        disk = FullDisk(engine)
        await _ended(engine, report.job_id)  # polled to its end; its results cannot be stored
        disk.all_writes = True
        downloads = count_downloads(engine)
        stop = asyncio.Event()
        caplog.set_level(logging.INFO, logger="corthex")
        caplog.clear()
        worker = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(FULL)
        during = list(caplog.records)
        downloads_during = len(downloads)
        disk.full = False  # room again
        summary = await _done(engine, report.job_id)
        stop.set()
        await worker
        wal_bytes = _size(Path(f"{tmp_path / 'corthex.db'}-wal"))
        lines = [line async for line in engine.results(report.job_id)]
    print(f"full disk {FULL}s: {downloads_during} downloads, {len(during)} log records; WAL after: {wal_bytes} B")
    assert downloads_during <= 8, downloads_during  # one per pause (0.2, 0.4, 0.8, 1 s…), not hundreds
    assert not [r for r in during if r.exc_info], "no traceback per round"
    assert len(during) <= 30, [r.getMessage()[:120] for r in during]
    assert any("local storage failing" in r.getMessage() for r in during)
    assert summary.succeeded == 6 and sorted(line["custom_id"] for line in lines) == sorted(
        r["custom_id"] for r in REQUESTS
    )
    assert emulator.state.stats()["openai"]["batches_created"] == 1
    assert wal_bytes < 64 * 1024, wal_bytes  # checkpointed after the collection, not left at its largest


async def _ended(engine: Engine, job_id: str) -> None:
    for _ in range(200):
        try:
            await engine.step()
        except OperationalError:  # the collection that follows the end (before the fix: raised)
            pass
        batches = await engine.batches(job_id)
        if batches and all(b.status.value == "ended" for b in batches):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the batch never ended")


async def _done(engine: Engine, job_id: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        summary = await engine.status(job_id)
        if summary.status.is_final and summary.completed_at is not None:
            return summary
        await asyncio.sleep(0.1)
    raise AssertionError("the job did not complete once the disk had room")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def test_no_room_for_a_result_file_pauses_the_worker_and_is_not_counted_against_the_provider(
    tmp_path: Path, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The result file cannot be written (ENOSPC in the data directory): that is our disk, not
    the provider's outage, so it neither counts towards giving the batch up nor loops."""
    settings = fast_settings(tmp_path, poll_initial=0.2, poll_max=1.0, idle_recheck=0.05)
    async with Engine(settings) as engine:
        provider = engine._ctx.providers[ProviderName.OPENAI]
        download = provider._download  # type: ignore[attr-defined]
        tries: list[float] = []
        room = asyncio.Event()

        async def no_room(file_id, path):  # type: ignore[no-untyped-def]
            tries.append(time.monotonic())
            if not room.is_set():
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            await download(file_id, path)

        provider._download = no_room  # type: ignore[attr-defined]
        report = await engine.submit(REQUESTS)
        stop = asyncio.Event()
        caplog.set_level(logging.INFO, logger="corthex")
        worker = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(FULL)
        tries_during = len(tries)
        [batch] = await engine.batches(report.job_id)
        room.set()
        summary = await _done(engine, report.job_id)
        stop.set()
        await worker
    assert 1 <= tries_during <= 8, tries_during
    assert batch.poll_failures == 0, batch  # not the provider's failure
    assert not [r for r in caplog.records if r.exc_info]
    assert summary.succeeded == 6
