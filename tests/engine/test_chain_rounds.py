"""A worker round over the chains: one query finds those with work, so the chains that wait for
their step's job are not read one by one (a round with 10,000 of them read each three times)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

from corthex import clock
from corthex.domain.chain import Action, ChainStatus, Step, next_action
from corthex.domain.jobs import JobStatus
from corthex.domain.requests import ProviderName
from corthex.engine.engine import Engine
from corthex.engine.intake import read_objects
from corthex.providers.base import Provider
from corthex.store.sql import SqlStore
from corthex.store.tables import chains
from corthex.testing import fast_settings

WAITING = 40


@contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """Every SQL statement the store sends while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)


async def test_a_round_over_many_waiting_chains_reads_none_of_them_one_by_one(engine: Engine) -> None:
    started = [await engine.start_chain(f"삼성전자 주가를 분석해 줘 {i}") for i in range(WAITING)]
    assert all(c.status is ChainStatus.RUNNING for c in started)  # each waits for its first step's job
    with statements(engine._store) as sent:
        await engine.chains.tick()
    assert len(sent) <= 2, f"{len(sent)} statements for a round in which no chain has work"
    after = {c.id: (c.step, c.status) for c in await engine._store.chains.list(limit=WAITING)}
    assert after == {c.id: (c.step, c.status) for c in started}  # and none was moved


async def _chain(store: SqlStore, name: str, step: Step, *, realtime: bool = False) -> str:
    chain_id = f"ch_{name}"
    await store.chains.create(
        chain_id,
        command="보고서",
        broadcast=False,
        realtime=realtime,
        step=step,
        departments=("cio",),
        route_method="keyword",
        route_detail="주식",
        origin="api",
        origin_ref=None,
    )
    return chain_id


async def _job(store: SqlStore, job_id: str, *, requests: int, realtime: bool) -> None:
    lines = [{"custom_id": f"r{i}", "model": "gpt-5-mini", "prompt": "질문"} for i in range(requests)]
    chunks = read_objects(lines, skip_invalid=False).chunks(job_id[4:]) if lines else []
    await store.add_job(
        job_id, source="chain", status=JobStatus.RUNNING, label=None, total=requests, chunks=chunks, realtime=realtime
    )


async def test_the_query_for_chains_with_work_agrees_with_next_action(engine: Engine) -> None:
    await agreement(engine._store)


async def test_the_query_agrees_on_postgresql_too(
    pg_url: str, tmp_path: Path, providers: dict[ProviderName, Provider]
) -> None:
    async with Engine(fast_settings(tmp_path, database_url=pg_url), providers=providers) as engine:
        await agreement(engine._store)


async def agreement(store: SqlStore) -> None:
    """Chains in every state the round can meet: `with_work` finds those next_action gives work."""
    expected: dict[str, Action] = {}
    expected[await _chain(store, "deliver", Step.DELIVER)] = Action.DELIVER
    expected[await _chain(store, "unclaimed", Step.DELEGATE)] = Action.ENTER
    nothing = await _chain(store, "nothing", Step.DELEGATE)
    await store.chains.record_step(nothing, Step.DELEGATE, None)
    expected[nothing] = Action.COMPLETE
    missing = await _chain(store, "missing", Step.SPECIALISTS)
    await store.chains.record_step(missing, Step.SPECIALISTS, "job_never_recorded")
    expected[missing] = Action.ENTER
    # (chain realtime, its step's job realtime): the org's transport may send one step realtime
    for name, realtime, job_realtime, requests, action in [
        ("waiting", False, False, 1, Action.WAIT),
        ("realtime", True, True, 1, Action.RESUME_REALTIME),
        ("realtime_step", False, True, 1, Action.RESUME_REALTIME),
        ("done", False, False, 0, Action.COMPLETE),
        ("done_realtime", True, True, 0, Action.COMPLETE),
    ]:
        chain_id = await _chain(store, name, Step.SYNTHESIZE, realtime=realtime)
        await store.chains.record_step(chain_id, Step.SYNTHESIZE, f"job_{name}")
        await _job(store, f"job_{name}", requests=requests, realtime=job_realtime)
        expected[chain_id] = action
    await store.finish_jobs(clock.now())  # the jobs without requests are complete
    sending = await _chain(store, "being_sent", Step.SYNTHESIZE, realtime=True)
    await store.chains.record_step(sending, Step.SYNTHESIZE, "job_being_sent")
    await _job(store, "job_being_sent", requests=1, realtime=True)
    assert await store.claim_sending("job_being_sent", "w_live", clock.now(), 60)  # another live process sends it
    expected[sending] = Action.WAIT
    finished = await _chain(store, "finished", Step.DELIVER)
    async with store.engine.begin() as conn:
        await conn.execute(update(chains).where(chains.c.id == finished).values(status=ChainStatus.STOPPED.value))
    expected[finished] = Action.WAIT

    for chain_id, action in expected.items():
        state = await store.chains.state(chain_id)
        decided = next_action(state.chain, state.step, state.job)
        # the step's sender lease is not the decision's: resuming would find it held and return
        assert decided is action or (chain_id == sending and decided is Action.RESUME_REALTIME), chain_id
    with_work = {s.chain.id for s in await store.chains.with_work()}
    assert with_work == {c for c, action in expected.items() if action is not Action.WAIT}
