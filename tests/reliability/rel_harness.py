"""The kill -9 harness: the emulator and `corthex worker` as real processes, one database, and
checks of what must hold after any crash (one result per request, no batch created twice, one
delivery per chain).

The emulator runs in its own process so that its record of what was created survives the
worker's death; workers are started with `CORTHEX_CRASH_AT` (corthex/crashpoints.py) to die at a
chosen point, or killed with SIGKILL at a random moment.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.store.sql import SqlStore
from corthex.testing import EmulatorProcess, free_port, wait_until
from corthex.testing.processes import CORTHEX

PROVIDERS = ("openai", "anthropic", "gemini")
MODELS = ("gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash")

#: Worker settings that keep a scenario to a few seconds (leases short, so a dead worker's
#: batches and chains are taken over soon; small result chunks, so collection has a middle).
FAST = {
    "CORTHEX_POLL_INITIAL": "0.05",
    "CORTHEX_POLL_MAX": "0.25",
    "CORTHEX_IDLE_RECHECK": "0.1",
    "CORTHEX_SUBMIT_BACKOFF": "0.05",
    "CORTHEX_LEASE_SECONDS": "1.0",
    "CORTHEX_CREATION_WINDOW": "6",  # a dead creator's intent is recreated this soon
    "CORTHEX_RESULT_CHUNK": "4",
    "CORTHEX_PROVIDER_MAX_RETRIES": "1",
    "CORTHEX_PROVIDER_TIMEOUT": "10",
    "CORTHEX_LOG_LEVEL": "INFO",
}


@dataclass
class Worker:
    """One `corthex worker` process; its stderr (the log) goes to a file."""

    env: dict[str, str]
    log: Path
    crash_at: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Worker:
        env = {**self.env}
        if self.crash_at:
            env["CORTHEX_CRASH_AT"] = self.crash_at
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([*CORTHEX, "worker"], env=env, stdout=out, stderr=out)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait(self, seconds: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"worker still running after {seconds}s; log:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def ready(self, seconds: float = 30) -> None:
        """Wait for the banner the worker prints once its signal handlers are in place."""

        async def banner() -> bool:
            assert self.alive(), self.tail()
            return "worker w_" in self.text()

        await wait_until(banner, within=seconds, what="the worker to start")

    async def stop(self, seconds: float = 20) -> int:
        """SIGTERM: the worker finishes the step in hand, releases its leases and exits 0."""
        assert self.proc is not None
        await self.ready()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait(seconds)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


class Server:
    """`corthex serve` as a real process (the API, the WebSocket and a worker loop of its own),
    on the database in `env`; its log goes to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*CORTHEX, "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                cwd=log.parent,
            )

    async def ready(self, seconds: float = 60) -> Server:
        async def healthy() -> bool:
            assert self.proc.poll() is None, f"corthex serve exited:\n{self.text()}"
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    return (await client.get(self.url + "/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(healthy, within=seconds, what="corthex serve to answer /healthz")
        return self

    def stop(self) -> int | None:
        """SIGTERM (a graceful stop), SIGKILL if it takes too long; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def text(self) -> str:
        return self.log.read_text(errors="replace")


class WsClient:
    """A WebSocket client of a server that keeps every message it is sent, in the background;
    if the server drops it (too slow), it reconnects with `since` and gets what it missed."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url if token is None else f"{url}?token={token}"
        self.messages: list[dict[str, Any]] = []
        self.reconnects = 0
        self.opened = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def __aenter__(self) -> WsClient:
        self._task = asyncio.create_task(self._run(), name="ws-client")
        await asyncio.wait_for(self.opened.wait(), 30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        since: int | None = None
        epoch: str | None = None
        while True:
            try:
                async with connect(self.url, open_timeout=10, max_size=None) as ws:
                    hello = {"type": "hello"} if since is None else {"since": since, "epoch": epoch}
                    await ws.send(orjson.dumps(hello).decode())
                    async for raw in ws:
                        message = orjson.loads(raw)
                        self.messages.append(message)
                        if message["type"] == "snapshot":
                            epoch = message["data"].get("epoch")
                            self.opened.set()
                        if isinstance(message.get("seq"), int):
                            since = message["seq"]
            except (ConnectionClosed, OSError):
                self.reconnects += 1
                await asyncio.sleep(0.1)


def worker_env(emulator: EmulatorProcess, url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORTHEX_")}
    return {
        **env,
        **emulator.env(),
        **FAST,
        "CORTHEX_DATABASE_URL": url,
        "CORTHEX_DATA_DIR": str(workdir / "data"),
        "CORTHEX_ARCHIVE_DIR": str(workdir / "archive"),
        **extra,
    }


def settings_for(url: str, workdir: Path) -> Settings:
    return Settings(database_url=url, data_dir=workdir / "data-seed", archive_dir=workdir / "archive")


def requests_for(tag: str, n: int) -> list[dict[str, Any]]:
    return [
        {"custom_id": f"{tag}-{i}", "model": MODELS[i % len(MODELS)], "prompt": f"question {tag} {i}"} for i in range(n)
    ]


async def seed(url: str, workdir: Path, *, jobs: list[int], chains: list[str]) -> tuple[list[str], list[str]]:
    """Record jobs (of the given sizes) and start chains, as `corthex submit` / `chain` would,
    without sending anything: the workers do all the rest."""
    async with Engine(settings_for(url, workdir)) as engine:
        job_ids = [(await engine.submit(requests_for(f"j{n}", size))).job_id for n, size in enumerate(jobs)]
        chain_ids = [(await engine.chains.start(command)).id for command in chains]
    return job_ids, chain_ids


async def scalar(store: SqlStore, sql: str) -> Any:
    async with store.engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar()


async def all_done(store: SqlStore) -> bool:
    """Some work recorded, every job complete, every chain ended, no batch open. (Without the first,
    a chain started by another process was "done" before that process had recorded it.)"""
    return (
        await scalar(store, "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM chains)") > 0
        and await scalar(store, "SELECT count(*) FROM jobs WHERE completed_at IS NULL") == 0
        and await scalar(store, "SELECT count(*) FROM chains WHERE status = 'running'") == 0
        and await scalar(store, "SELECT count(*) FROM batches WHERE status IN ('intent', 'submitted', 'ended')") == 0
    )


def batch_keys(stats: dict[str, Any]) -> dict[str, list[str]]:
    """The batch key each created provider batch carries: OpenAI metadata corthex_key, Gemini
    display name, Anthropic the suffix of the first custom_id (`<wire id>__<key>`)."""
    keys: dict[str, list[str]] = {}
    for entry in stats["openai"]["batches"]:
        keys.setdefault("openai", []).append((entry["metadata"] or {}).get("corthex_key"))
    for entry in stats["gemini"]["batches"]:
        keys.setdefault("gemini", []).append(entry["display_name"])
    for entry in stats["anthropic"]["batches"]:
        first = entry["first_custom_id"] or ""
        keys.setdefault("anthropic", []).append(first.split("__", 1)[1] if "__" in first else None)
    return keys


@dataclass
class Outcome:
    requests: int
    results: int
    created: dict[str, int]  #: provider batches created at the emulator
    chains: int
    delivered: int


async def check_invariants(
    store: SqlStore, emulator_stats: dict[str, Any], archive: Path, *, all_succeeded: bool = True
) -> Outcome:
    """What must hold after any run, crashes or not. Returns the figures."""
    requests = await scalar(store, "SELECT count(*) FROM requests")
    results = await scalar(store, "SELECT count(*) FROM results")
    total = await scalar(store, "SELECT coalesce(sum(total), 0) FROM jobs")
    assert requests == results == total, f"requests {requests}, results {results}, job totals {total}"
    assert await scalar(store, "SELECT count(*) FROM requests WHERE state <> 'done'") == 0
    dup = await scalar(
        store,
        "SELECT count(*) FROM (SELECT job_id, custom_id FROM results GROUP BY job_id, custom_id HAVING count(*) > 1) d",
    )
    assert dup == 0, f"{dup} requests have more than one result"
    orphaned = await scalar(
        store, "SELECT count(*) FROM results r LEFT JOIN requests q ON q.id = r.request_id WHERE q.id IS NULL"
    )
    assert orphaned == 0
    if all_succeeded:
        failed = await scalar(store, "SELECT count(*) FROM results WHERE status <> 'succeeded'")
        assert failed == 0, f"{failed} results did not succeed"
    # no batch created twice: each intent's key at most once at the emulator, and every batch the
    # emulator created is one we recorded (no orphan left unadopted, paid for and unread)
    keys = batch_keys(emulator_stats)
    for provider, found in keys.items():
        repeated = {k: n for k, n in Counter(found).items() if n > 1}
        assert not repeated, f"{provider} batches created more than once: {repeated}"
        assert None not in found, f"a {provider} batch without our key: {found}"
    async with store.engine.connect() as conn:
        recorded = {r[0] for r in (await conn.execute(text("SELECT id FROM batches"))).all()}
    created = {k for found in keys.values() for k in found}
    assert created <= recorded, f"batches created but never recorded: {sorted(created - recorded)}"
    assert await scalar(store, "SELECT count(*) FROM batches WHERE status = 'submitted' OR status = 'intent'") == 0
    empty = await scalar(store, "SELECT count(*) FROM batches WHERE request_count = 0")
    assert empty == 0, f"{empty} batch rows hold no request (a dispatcher lost the race and left its intent)"
    unadopted = created - await _adopted(store)
    assert not unadopted, f"batches created at the provider but never collected: {sorted(unadopted)}"
    # every chain delivered once: one delivery row per chain and sink, one archive file per chain
    chains = await scalar(store, "SELECT count(*) FROM chains")
    done = await scalar(store, "SELECT count(*) FROM chains WHERE status = 'completed'")
    assert done == chains, f"{chains - done} chains not completed"
    # (a `corthex serve` process adds a `websocket` sink to the chains it delivers itself)
    delivered = await scalar(store, "SELECT count(*) FROM deliveries WHERE delivered_at IS NOT NULL AND error IS NULL")
    rows = await scalar(store, "SELECT count(*) FROM deliveries")
    archived = await scalar(store, "SELECT count(*) FROM deliveries WHERE sink = 'archive'")
    twice = await scalar(
        store, "SELECT count(*) FROM (SELECT 1 FROM deliveries GROUP BY chain_id, sink HAVING count(*) > 1) d"
    )
    assert delivered == rows and archived == chains and twice == 0, (
        f"deliveries: {delivered} delivered of {rows} rows ({archived} to the archive, {twice} doubled) "
        f"for {chains} chains"
    )
    files, leftovers = archive_files(archive)
    assert len(files) == chains and not leftovers, f"{len(files)} archive files for {chains} chains; {leftovers}"
    created_counts = {p: emulator_stats[p]["batches_created"] for p in PROVIDERS}
    return Outcome(requests, results, created_counts, chains, archived)


def archive_files(archive: Path) -> tuple[list[Path], list[Path]]:
    """(reports, half-written files) in the archive directory."""
    if not archive.exists():
        return [], []
    return sorted(archive.glob("*.md")), sorted(archive.glob("*.tmp"))


async def _adopted(store: SqlStore) -> set[str]:
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id FROM batches WHERE remote IS NOT NULL"))).all()
    return {r[0] for r in rows}
