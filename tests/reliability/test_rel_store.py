"""Concurrency in the store, on SQLite and on PostgreSQL: leases taken by one worker at a time
(FOR UPDATE SKIP LOCKED on PostgreSQL), requests in exactly one batch however many workers
dispatch at once, a dead worker's leases taken over, migrations run once by concurrent
processes, and events relayed between processes by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from corthex.domain.batches import BatchStatus, RemoteRef
from corthex.domain.chain import Step
from corthex.domain.events import BatchCollected, ChainDone, Event, UnknownEvent
from corthex.domain.jobs import JobStatus
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.engine.events import EventBus
from corthex.engine.intake import request_row
from corthex.engine.pg_events import MAX_PAYLOAD, PgEventRelay, asyncpg_dsn, decode, encode
from corthex.store.migrate import alembic_config
from corthex.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def stores(url: str) -> AsyncIterator[list[SqlStore]]:
    """Three stores on one database: three workers' connections."""
    first = await SqlStore.open(url)
    others = [await SqlStore.open(url) for _ in range(2)]
    yield [first, *others]
    for s in (first, *others):
        await s.close()


async def add_job(store: SqlStore, job: str, n: int) -> list[str]:
    rows = [
        request_row(job, i, LLMRequest(f"u{i}", "claude-haiku-4-5", ProviderName.ANTHROPIC, (Message("user", "q"),)))
        for i in range(n)
    ]
    await store.add_job(job, source="api", status=JobStatus.RUNNING, label=None, total=n, chunks=[rows])
    return [r["id"] for r in rows]


async def test_concurrent_dispatchers_put_each_request_in_exactly_one_batch(stores: list[SqlStore]) -> None:
    ids = await add_job(stores[0], "j1", 3000)
    now = time.time()
    taken = await asyncio.gather(
        *(
            s.open_batch(f"b{n}", ProviderName.ANTHROPIC, None, ids, now=now, owner=f"w{n}", lease=60)
            for n, s in enumerate(stores)
        )
    )
    assert sum(taken) == 3000
    async with stores[0].engine.connect() as conn:
        per_batch = dict((await conn.execute(text("SELECT batch_id, count(*) FROM requests GROUP BY batch_id"))).all())
    assert sum(per_batch.values()) == 3000 and None not in per_batch
    assert {f"b{n}": t for n, t in enumerate(taken) if t} == per_batch


async def test_due_batches_are_claimed_by_one_worker_each(stores: list[SqlStore]) -> None:
    ids = await add_job(stores[0], "j2", 40)
    now = time.time()
    for n in range(20):
        await stores[0].open_batch(
            f"d{n}", ProviderName.ANTHROPIC, None, ids[2 * n : 2 * n + 2], now=now, owner="w0", lease=60
        )
        await stores[0].mark_submitted(f"d{n}", RemoteRef(f"r{n}"), now, 0.0)
        await stores[0].release(f"d{n}", "w0")
    later = now + 1
    claimed = await asyncio.gather(*(s.claim_due(later, f"w{n}", 30, limit=100) for n, s in enumerate(stores)))
    names = [b.id for batch_list in claimed for b in batch_list]
    assert sorted(names) == sorted(f"d{n}" for n in range(20))  # all of them, each once
    assert await stores[1].claim_due(later, "w9", 30) == []  # all leased now
    # a dead worker's leases run out, and another worker takes its batches over
    taken_over = await stores[2].claim_due(later + 31, "w9", 30)
    assert sorted(b.id for b in taken_over) == sorted(names)


async def test_an_intent_is_recovered_only_after_its_lease(stores: list[SqlStore]) -> None:
    ids = await add_job(stores[0], "j3", 2)
    now = time.time()
    await stores[0].open_batch("i1", ProviderName.ANTHROPIC, None, ids, now=now, owner="w0", lease=5)
    assert await stores[1].claim_due(now + 1, "w1", 5) == []  # its creator is at work
    [intent] = await stores[1].claim_due(now + 10, "w1", 5)
    assert intent.status is BatchStatus.INTENT
    assert not await stores[0].claim("i1", "w0", now + 11, 5)  # the old holder lost it
    assert await stores[0].mark_submitted("i1", RemoteRef("r1"), now, 0.0)
    assert not await stores[1].mark_submitted("i1", RemoteRef("r2"), now, 0.0)  # a second batch is refused


async def test_a_stalled_worker_cannot_take_back_an_intent_another_created(stores: list[SqlStore]) -> None:
    """The fence before creation: w0 recorded the intent and stalled past its lease; w1 recovered
    it, created it, recorded it and let go. When w0 wakes, its fencing claim must fail (a plain
    lease claim would succeed on the released batch, and w0 would create it a second time)."""
    ids = await add_job(stores[0], "j5", 2)
    now = time.time()
    await stores[0].open_batch("i2", ProviderName.ANTHROPIC, None, ids, now=now, owner="w0", lease=1)
    [intent] = await stores[1].claim_due(now + 2, "w1", 5)
    assert await stores[1].claim_intent("i2", "w1", now + 2, 5, window=0)
    assert not await stores[0].claim_intent("i2", "w0", now + 2, 5, window=0)  # w1 holds it now
    assert await stores[1].mark_submitted("i2", RemoteRef("r1"), now + 2, 0.0)
    await stores[1].release("i2", "w1")
    assert await stores[0].claim("i2", "w0", now + 3, 5)  # the lease alone is free again ...
    await stores[0].release("i2", "w0")
    assert not await stores[0].claim_intent("i2", "w0", now + 3, 5, window=0)  # ... but it is no intent any more


async def test_an_intent_being_created_is_left_alone_for_the_creation_window(stores: list[SqlStore]) -> None:
    """w0 starts creating the batch and its lease runs out mid-call (a stalled loop, a busy
    host): until the creation window is over, no other worker recovers the intent — it would
    find no batch yet (one still being created) and create a second one."""
    ids = await add_job(stores[0], "j6", 2)
    now = time.time()
    await stores[0].open_batch("i3", ProviderName.GEMINI, None, ids, now=now, owner="w0", lease=1)
    assert await stores[0].claim_intent("i3", "w0", now, 1, window=30)
    assert await stores[1].claim_due(now + 5, "w1", 5) == []  # lease over, creation maybe in flight
    [intent] = await stores[1].claim_due(now + 31, "w1", 5)  # the window is over: recovered
    assert intent.id == "i3" and intent.status is BatchStatus.INTENT


async def test_one_worker_at_a_time_advances_a_chain(stores: list[SqlStore]) -> None:
    chains = stores[0].chains
    await chains.create(
        "ch_x",
        command="c",
        broadcast=False,
        realtime=False,
        step=Step.DELEGATE,
        departments=("cto",),
        route_method="keyword",
        route_detail="x",
        origin="cli",
        origin_ref=None,
    )
    now = time.time()
    won = await asyncio.gather(*(s.chains.claim("ch_x", f"w{n}", now, 10) for n, s in enumerate(stores)))
    assert sorted(won) == [False, False, True]
    holder = f"w{won.index(True)}"
    await stores[0].chains.release("ch_x", holder)
    assert await stores[1].chains.claim("ch_x", "w1", now, 10)
    assert await stores[2].chains.claim("ch_x", "w2", now + 11, 10)  # expired: taken over


async def test_concurrent_first_opens_migrate_once(url: str) -> None:
    opened = await asyncio.gather(*(SqlStore.open(url) for _ in range(4)), return_exceptions=True)
    errors = [o for o in opened if isinstance(o, BaseException)]
    for o in opened:
        if isinstance(o, SqlStore):
            await o.close()
    assert errors == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    store = await SqlStore.open(url)
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == head
    await store.close()


# --- events across processes (PostgreSQL only) ------------------------------------------------


async def test_events_reach_every_process_once(pg_url: str) -> None:
    store = await SqlStore.open(pg_url)
    dsn = asyncpg_dsn(store.engine.url)
    buses = [EventBus() for _ in range(3)]
    relays = [await PgEventRelay(bus, dsn, f"p{n}").start() for n, bus in enumerate(buses)]
    heard: list[list[Event]] = [[] for _ in buses]
    for bus, sink in zip(buses, heard, strict=True):
        bus.subscribe(sink.append)
    try:
        await buses[0].publish(BatchCollected(batch_id="b1", provider="openai", results=3, retried=0))
        long = ChainDone(chain_id="c1", status="completed", cost_usd=0.5, realtime_cost_usd=1.0, report="r" * 20_000)
        await buses[1].publish(long)  # far over NOTIFY's limit

        async def everyone_heard() -> bool:
            await asyncio.sleep(0.05)
            return all(len(h) == 2 for h in heard)

        deadline = time.monotonic() + 10
        while not await everyone_heard():
            assert time.monotonic() < deadline, heard
        await asyncio.sleep(0.2)  # and nothing more comes (no echo, no loop)
        assert [len(h) for h in heard] == [2, 2, 2]
        third = {e.type: e for e in heard[2]}
        collected, done = third["batch.collected"], third["chain.done"]
        assert collected == BatchCollected(
            batch_id="b1", provider="openai", results=3, retried=0, at=collected.at, relayed_from="p0"
        )
        assert isinstance(done, ChainDone) and done.report is None and done.omitted == ("report",)
        assert done.data() == {
            "chain_id": "c1",
            "status": "completed",
            "cost_usd": 0.5,
            "realtime_cost_usd": 1.0,
            "notice": None,
            "origin": None,
            "origin_ref": None,
            "omitted": ["report"],
        }
        assert {e.relayed_from for e in heard[0]} == {None, "p1"}  # its own event local, the other relayed
    finally:
        for relay in relays:
            await relay.close()
        await store.close()


def test_notify_payloads_stay_under_the_limit() -> None:
    event = UnknownEvent(name="x", payload={"a_id": "1", "text": "t" * 100_000, "many": ["y" * 100] * 500, "n": 3})
    payload = encode(event, "p")
    assert len(payload.encode()) <= MAX_PAYLOAD
    back = decode(payload)
    assert back is not None and back.data()["a_id"] == "1" and back.data()["n"] == 3 and back.relayed_from == "p"
    assert decode("not json") is None


OPEN_STORE = "import asyncio, sys\nfrom corthex.store.sql import SqlStore\nasync def main():\n    await (await SqlStore.open(sys.argv[1])).close()\nasyncio.run(main())\n"


def test_processes_starting_at_once_on_a_fresh_postgresql_migrate_it_once(pg_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, pg_url], stderr=subprocess.PIPE) for _ in range(3)]
    outcomes = [(p.wait(60), p.stderr.read().decode() if p.stderr else "") for p in procs]
    for p in procs:
        if p.stderr:
            p.stderr.close()
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
