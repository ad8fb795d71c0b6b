"""Keys never logged, published, stored or archived: a full job and a chain run by a real worker
process at DEBUG log level with distinctive dummy keys, and a provider error on the way; then the
worker's log, every event (received over PostgreSQL LISTEN/NOTIFY from the worker), every
table's contents, the archive and the data directory are searched for the keys. Archive paths
stay inside the archive directory whatever the agent names and commands."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from rel_harness import (
    EmulatorProcess,
    Worker,
    all_done,
    check_invariants,
    requests_for,
    settings_for,
    wait_until,
    worker_env,
)
from sqlalchemy import text

from corthex.archive import archive_path, safe_name, write_report
from corthex.engine.engine import Engine
from corthex.engine.events import Event

KEYS = {
    "OPENAI_API_KEY": "sk-test-SECRET-oai-4f1c2d9e8b7a",
    "ANTHROPIC_API_KEY": "sk-ant-test-SECRET-ant-77d1e0c3",
    "GEMINI_API_KEY": "AIzaTEST-SECRET-gem-0a9b8c7d6e5f",
    "CORTHEX_API_TOKEN": "tok-test-SECRET-api-31415926",
}
MARK = "SECRET"  # every key carries it; nothing else in a run does


def leaks(name: str, content: str) -> list[str]:
    return [f"{name}: {var}" for var, key in KEYS.items() if key in content] + (
        [f"{name}: a key fragment"] if MARK in content else []
    )


async def test_no_key_in_logs_events_store_or_archive(pg_url: str, tmp_path: Path, emulator: EmulatorProcess) -> None:
    env = {**worker_env(emulator, pg_url, tmp_path, CORTHEX_LOG_LEVEL="DEBUG"), **KEYS}
    emulator.add_fault(provider="openai", op="create", kind="http", status=500, times=1)  # an error on the way
    emulator.add_fault(provider="anthropic", op="retrieve", kind="http", status=429, times=1)
    events: list[Event] = []
    async with Engine(settings_for(pg_url, tmp_path)) as engine:  # hears the worker's events (NOTIFY)
        engine.bus.subscribe(events.append)
        await engine.submit(requests_for("s", 9))
        await engine.chains.start("Plan the launch of our new mobile app backend")
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            await wait_until(lambda: all_done(engine.store), 60, "the run to finish")
            assert await worker.stop() == 0, worker.tail()
        finally:
            worker.kill()
        await check_invariants(engine.store, emulator.stats(), tmp_path / "archive")
        dump = await table_dump(engine)
    assert any(e.origin for e in events), "no event came from the worker"
    assert {"batch.submitted", "batch.collected", "chain.done"} <= {e.type for e in events}
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "DEBUG" in log and len(log) > 10_000  # the debug log was on, and is not empty
    found = leaks("worker log", log) + leaks("events", repr([(e.type, e.data) for e in events])) + leaks("store", dump)
    for path in [*(tmp_path / "archive").rglob("*"), *(tmp_path / "data").rglob("*")]:
        if path.is_file():
            found += leaks(str(path), path.read_text(errors="replace"))
    assert not found, found


async def table_dump(engine: Engine) -> str:
    parts = []
    async with engine.store.engine.connect() as conn:
        for table in ("jobs", "requests", "results", "batches", "chains", "chain_steps", "deliveries"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
            parts.append(repr(rows))
    return "\n".join(parts)


ODD_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "~root",
    "a/../../b",
    "C:\\Windows\\system32",
    "\\\\server\\share",
    "name\x00with-nul",
    "..\u2215..\u2215etc",  # division slash
    "\uff0e\uff0e\uff0fetc",  # fullwidth dots and solidus: NFKD makes them ../
    "\u202eevil\u202dtxt.md",  # bidi overrides
    "재무팀/../../x",
    "x" * 500,
    "con",
    "report.md\n---\nowned: true",
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_archive_paths_never_leave_the_archive(name: str, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    fragment = safe_name(name)
    assert fragment not in ("", ".", "..") and "/" not in fragment and "\\" not in fragment
    assert fragment == unicodedata.normalize("NFKC", fragment) and fragment.isascii()
    path = archive_path(root, name, 1_700_000_000.0, name)
    assert path.parent == root.resolve()
    chain = {
        "id": name,
        "broadcast": False,
        "departments": [name],
        "command": name,
        "realtime": False,
        "created_at": 1_700_000_000.0,
    }
    written = write_report(root, chain, f"# {name}", models=[], cost=0.0, realtime_cost=0.0)
    assert written.parent == root.resolve() and written.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [written]
