"""The SQLite query plans of every statement the engine and the server's store views run.

    .venv/bin/python bench/query_plans.py [--requests 600]

Runs a real job (three providers, the emulator in-process) through the engine, then the
reads the API makes (job summary, job list, batch list, results, metrics counts, cost), while
capturing every SQL statement with the store method that issued it; then prints
EXPLAIN QUERY PLAN of each distinct statement. "SCAN t" without an index is a full scan of t;
"SEARCH t USING INDEX i" is an index lookup. Writes bench/out/query_plans.json.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextvars
import functools
import inspect
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import save, write_requests  # noqa: E402

from corthex import Engine, Settings  # noqa: E402
from corthex.emulator import EmulatorConfig, EmulatorServer  # noqa: E402
from corthex.store.chains import ChainStore  # noqa: E402
from corthex.store.sql import SqlStore  # noqa: E402
from corthex.store.views import StoreViews  # noqa: E402

_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="?")
_CURRENT = ["?"]  # fallback when the context does not reach SQLAlchemy's greenlet


def _wrap(cls: type) -> None:
    for name, fn in list(vars(cls).items()):
        if name.startswith("_") or not inspect.iscoroutinefunction(fn):
            continue

        def make(fn: Any, label: str) -> Any:
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                token = _CALLER.set(label)
                _CURRENT[0] = label
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _CALLER.reset(token)

            return wrapper

        setattr(cls, name, make(fn, f"{cls.__name__}.{name}"))


def _classes() -> list[type]:
    return [SqlStore, ChainStore, StoreViews]


async def _exercise(engine: Engine, path: Path) -> None:
    report = await engine.submit_file(path)
    await engine.wait(report.job_id, timeout=120)
    async for _ in engine.results(report.job_id):
        pass
    await engine.status(report.job_id)
    await engine.jobs()
    await engine.batches(report.job_id)
    await engine.batches()
    store = engine._store
    await store.queue_stats()
    await store.next_poll_at()
    await store.next_dispatch_at()
    await store.has_open_work()
    await store.result_count(report.job_id)
    await store.chains.list()
    await store.chains.spent_since(time.time() - 86400)
    await store.chains.outstanding_estimate()  # the daily budget check
    await store.chains.owed_deliveries(["telegram", "websocket"])  # every worker round
    await store.chains.costs(["ch_x"])
    views = StoreViews(store.engine)
    await views.counts()
    await views.job_requests(report.job_id)
    await views.cost_between(time.time() - 86400, time.time())
    await views.open_batch_by_remote("openai", "batch_x")
    queued = await engine.submit_file(path, queue=True)
    await engine.cancel(queued.job_id)


def _params_for(parameters: Any) -> Any:
    if isinstance(parameters, (list, tuple)) and parameters and isinstance(parameters[0], (list, tuple, dict)):
        return parameters[0]
    return parameters


async def run(n: int) -> list[dict[str, Any]]:
    for cls in _classes():
        _wrap(cls)
    seen: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="corthex-plans-"))
    atexit.register(shutil.rmtree, tmp, True)  # the work directory goes with the run
    requests = tmp / "requests.jsonl"
    write_requests(requests, n)
    db = tmp / "plans.db"
    with EmulatorServer(EmulatorConfig(speed=0.02)) as emu:
        os.environ.update(emu.env())
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{db}", data_dir=tmp / "data", poll_initial=0.05, poll_max=0.2
        )
        async with Engine(settings) as engine:

            def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
                head = statement.lstrip().split(None, 1)[0].upper()
                if head not in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH"):
                    return
                key = re.sub(r"\s+", " ", statement.strip())
                key = re.sub(r"\((\?, )+\?\)", "(?, ...)", key)  # IN lists of any length are one statement
                caller = _CALLER.get()
                caller = caller if caller != "?" else _CURRENT[0]
                entry = seen.setdefault(key, {"callers": set(), "sql": statement, "params": None})
                entry["callers"].add(caller)
                entry["sql"], entry["params"] = statement, _params_for(parameters)

            event.listen(engine._store.engine.sync_engine, "before_cursor_execute", capture)
            await _exercise(engine, requests)
    out = []
    with sqlite3.connect(db) as conn:
        for key, entry in seen.items():
            if key.upper().startswith("INSERT") and "SELECT" not in key.upper():
                continue
            try:
                plan = conn.execute("EXPLAIN QUERY PLAN " + entry["sql"], entry["params"] or ()).fetchall()
                lines = [row[-1] for row in plan]
            except sqlite3.Error as exc:
                lines = [f"(not explained: {exc})"]
            out.append({"callers": sorted(entry["callers"]), "sql": key, "plan": lines})
    out.sort(key=lambda e: e["callers"])
    return out


def _verdict(lines: list[str]) -> str:
    scans = [x for x in lines if x.startswith("SCAN") and " USING " not in x]
    return "FULL SCAN: " + ", ".join(scans) if scans else "indexed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    plans = asyncio.run(run(args.requests))
    for entry in plans:
        print(f"\n{', '.join(entry['callers'])}  [{_verdict(entry['plan'])}]")
        print(f"  {entry['sql'][:300]}")
        for line in entry["plan"]:
            print(f"    {line}")
    for entry in plans:
        entry["verdict"] = _verdict(entry["plan"])
    name = "query_plans" + (f"-{args.label}" if args.label else "")
    print(f"\nwritten to {save(name, {'statements': plans})}")


if __name__ == "__main__":
    main()
