"""Keys never logged, returned, published, stored or archived: a full run on PostgreSQL with
distinctive dummy keys and an API token, at DEBUG log level, with provider errors on the way —
a real `corthex worker` and a real `corthex serve` share the work; the job and the chain are
submitted through the REST API, a WebSocket client follows the run. Then the worker's and the
server's logs, every API response (successes, 401s, 404s, 413s, 422s), every WebSocket message,
every event (received over LISTEN/NOTIFY), every table, the archive and the data directories are
searched for the keys. On the way: the API and the WebSocket refuse a missing or wrong token, and
bodies over the limit get 413 from the real server. Archive paths stay inside the archive
directory whatever the agent names and commands."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from rel_harness import (
    EmulatorProcess,
    Server,
    Worker,
    WsClient,
    all_done,
    check_invariants,
    requests_for,
    settings_for,
    wait_until,
    worker_env,
)
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from corthex.archive import archive_path, safe_name, write_report
from corthex.domain.events import Event
from corthex.engine.engine import Engine

KEYS = {
    "OPENAI_API_KEY": "sk-test-Zq9Xj-oai-4f1c2d9e8b7a",
    "ANTHROPIC_API_KEY": "sk-ant-test-Zq9Xj-ant-77d1e0c3",
    "GEMINI_API_KEY": "AIzaTEST-Zq9Xj-gem-0a9b8c7d6e5f",
    "CORTHEX_API_TOKEN": "tok-test-Zq9Xj-api-31415926",
}
MARK = "Zq9Xj"  # every key carries it; nothing else in a run does


def leaks(name: str, content: str) -> list[str]:
    return [f"{name}: {var}" for var, key in KEYS.items() if key in content] + (
        [f"{name}: a key fragment"] if MARK in content else []
    )


async def test_no_key_in_logs_api_ws_events_store_or_archive(
    pg_url: str, tmp_path: Path, emulator_process: EmulatorProcess
) -> None:
    env = {**worker_env(emulator_process, pg_url, tmp_path, CORTHEX_LOG_LEVEL="DEBUG"), **KEYS}
    emulator_process.add_fault(provider="openai", op="create", kind="http", status=500, times=1)  # an error on the way
    emulator_process.add_fault(provider="anthropic", op="retrieve", kind="http", status=429, times=1)
    emulator_process.add_fault(provider="gemini", op="retrieve", kind="malformed", times=1)
    token = KEYS["CORTHEX_API_TOKEN"]
    events: list[Event] = []
    bodies: list[str] = []
    server = Server({**env, "CORTHEX_DATA_DIR": str(tmp_path / "serve-data")}, tmp_path / "serve.log")
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        async with Engine(settings_for(pg_url, tmp_path)) as engine:  # hears every process's events (NOTIFY)
            engine.bus.subscribe(events.append)
            await server.ready()
            await refused_without_the_token(server, bodies)
            auth = {"Authorization": f"Bearer {token}"}
            async with (
                WsClient(server.ws_url, token) as ws,
                httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as api,
            ):
                job = await api.post("/jobs", json={"requests": requests_for("s", 9)})
                chain = await api.post("/chains", json={"command": "Plan the launch of our new mobile app backend"})
                assert job.status_code == 201 and chain.status_code == 202, (job.text, chain.text)
                bodies += [job.text, chain.text]
                await wait_until(lambda: all_done(engine._store), within=60, what="the run to finish")
                await wait_until(
                    lambda: _true(bool(ws.events("chain.done"))), within=10, what="chain.done on the WebSocket"
                )
                bodies += await every_answer(api, job.json()["job_id"], chain.json()["id"])
                bodies += await over_the_limit(api)
            assert await worker.stop() == 0, worker.tail()
            await check_invariants(engine._store, emulator_process.stats(), tmp_path / "archive")
            dump = await table_dump(engine)
    finally:
        worker.kill()
        server.stop()
    assert any(e.relayed_from for e in events), "no event came from another process"
    assert {"batch.submitted", "batch.collected", "chain.done"} <= {e.type for e in events}
    assert {"batch.submitted", "batch.collected", "chain.done"} <= {m["type"] for m in ws.messages}
    worker_log, server_log = (tmp_path / "worker.log").read_text(errors="replace"), server.text()
    assert "DEBUG" in worker_log and len(worker_log) > 10_000  # the debug log was on, and is not empty
    assert "DEBUG" in server_log and "GET /jobs" in server_log  # so was the server's, access log included
    found = (
        leaks("worker log", worker_log)
        + leaks("server log", server_log)
        + leaks("API answers", "\n".join(bodies))
        + leaks("WebSocket", "\n".join(orjson.dumps(m).decode() for m in ws.messages))
        + leaks("events", repr([(e.type, e.data()) for e in events]))
        + leaks("store", dump)
    )
    for root in ("archive", "data", "serve-data"):
        for path in (tmp_path / root).rglob("*"):
            if path.is_file():
                found += leaks(str(path), path.read_text(errors="replace"))
    assert not found, found


async def _true(value: bool) -> bool:
    return value


async def refused_without_the_token(server: Server, bodies: list[str]) -> None:
    """With CORTHEX_API_TOKEN set: every route but /healthz and the page answers 401 without it
    (or with a wrong one), and the WebSocket refuses the handshake."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anonymous:
        for method, path in (
            ("GET", "/jobs"),
            ("POST", "/jobs"),
            ("GET", "/queue"),
            ("POST", "/queue"),
            ("POST", "/queue/flush"),
            ("GET", "/batches"),
            ("GET", "/chains"),
            ("POST", "/chains"),
            ("GET", "/org"),
            ("GET", "/costs"),
            ("GET", "/archive"),
            ("GET", "/metrics"),
        ):
            for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic eDp5"}):
                answer = await anonymous.request(method, path, headers=headers, json={"requests": []})
                assert answer.status_code == 401, (method, path, headers, answer.text)
                bodies.append(answer.text)
        assert (await anonymous.get("/healthz")).status_code == 200
    for url, headers in (
        (server.ws_url, {}),
        (server.ws_url + "?token=wrong", {}),
        (server.ws_url, {"Authorization": "Bearer wrong"}),
    ):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers, open_timeout=10):
                pass
        assert refused.value.response.status_code == 403


async def every_answer(api: httpx.AsyncClient, job_id: str, chain_id: str) -> list[str]:
    """The text of every read route's answer after the run (and of some error answers)."""
    paths = [
        "/jobs",
        f"/jobs/{job_id}",
        f"/jobs/{job_id}/results",
        "/batches",
        "/queue",
        "/chains",
        f"/chains/{chain_id}",
        "/org",
        "/costs",
        "/archive",
        "/metrics",
        "/healthz",
        "/openapi.json",
        "/jobs/nope",
        "/chains/nope",
        "/archive/..%2F..%2Fetc%2Fpasswd",
    ]
    bodies = [(await api.get(path)).text for path in paths]
    for batch in (await api.get("/batches")).json():
        bodies.append((await api.get(f"/batches/{batch['id']}")).text)
    for entry in (await api.get("/archive")).json():
        report = await api.get(f"/archive/{entry['name']}")
        assert report.status_code == 200 and chain_id in report.text
        bodies.append(report.text)
    bodies.append((await api.post("/jobs", json={"requests": [{"model": "x"}]})).text)
    return bodies


async def over_the_limit(api: httpx.AsyncClient) -> list[str]:
    """The real server (uvicorn) refuses bodies over the limit: declared, or streamed without a
    Content-Length (the middleware counts while it reads)."""

    async def streamed(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // 65536):
            yield b" " * 65536
        yield b" " * (size % 65536 + 1)

    answers = [await api.post("/chains", content=streamed(64 * 1024), headers={"content-type": "application/json"})]
    for answer in answers:
        assert answer.status_code == 413 and "too large" in answer.json()["detail"], answer.text
    # a declared 50 MB + 1 body is refused on its headers, before a byte of it is sent
    host, port = str(api.base_url.host), int(api.base_url.port or 80)
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST /jobs HTTP/1.1\r\nHost: {host}\r\nAuthorization: {api.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024 + 1}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    rest = b""
    while b"too large" not in rest:
        chunk = await asyncio.wait_for(reader.read(4096), 10)
        if not chunk:
            break
        rest += chunk
    writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert b"too large" in rest, rest
    return [a.text for a in answers] + [rest.decode(errors="replace")]


async def table_dump(engine: Engine) -> str:
    parts = []
    async with engine._store.engine.connect() as conn:
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
