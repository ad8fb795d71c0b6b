"""The delegation chain end to end (DESIGN.md §4): every step on the Batch APIs, each fallback,
restarts in the middle of each step, the budget stop, delivery exactly once."""

from __future__ import annotations

import asyncio
import re
from importlib import resources
from pathlib import Path

import orjson
import pytest
import yaml
from chain_support import run_until, total_batches

from corthex.config import Settings
from corthex.domain.chain import ChainStatus, Step
from corthex.domain.events import ChainDone, Event
from corthex.domain.jobs import JobStatus
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.errors import UsageError

STOCK = "삼성전자 주식 다음 분기 전망 분석해줘"  # keyword → CIO (gemini, openai, anthropic ×2)
CIO_SPECIALISTS = [
    "market_condition_specialist",
    "stock_analysis_specialist",
    "technical_analysis_specialist",
    "risk_management_specialist",
]


async def step_bodies(engine: Engine, chain_id: str, step: Step) -> dict[str, dict]:
    """The requests a step sent, by the chain's custom id (read back from the store)."""
    from sqlalchemy import select

    from corthex.store.tables import requests

    [row] = [s for s in await engine._store.chains.steps(chain_id) if s.step is step]
    async with engine._store.engine.connect() as conn:
        rows = (
            await conn.execute(select(requests.c.custom_id, requests.c.body).where(requests.c.job_id == row.job_id))
        ).all()
    return {r.custom_id: orjson.loads(r.body) for r in rows}


def archive_files(settings: Settings) -> list[Path]:
    return sorted(settings.archive_dir.glob("*.md")) if settings.archive_dir.exists() else []


async def test_single_department_chain_runs_every_step_and_is_archived_once(engine: Engine, settings: Settings) -> None:
    chain = await engine.chains.start(STOCK)
    assert chain.route_method == "keyword" and chain.departments == ("cio",)
    chain = await run_until(engine, chain.id)
    assert chain.status is ChainStatus.COMPLETED and chain.step is Step.DONE
    assert [s.step for s in await engine._store.chains.steps(chain.id)] == [
        Step.DELEGATE,
        Step.SPECIALISTS,
        Step.SYNTHESIZE,
    ]
    assert chain.report and chain.report.startswith("# Investment")
    [archived] = archive_files(settings)
    front = yaml.safe_load(archived.read_text().split("---")[1])
    assert front["chain_id"] == chain.id and front["department"] == "cio"
    assert {"gpt-5.2", "claude-sonnet-4-6", "gemini-2.5-pro"} <= set(front["models"])
    cost, realtime = await engine._store.chains.cost(chain.id)
    assert 0 < cost == pytest.approx(realtime / 2) and front["cost_usd"] == pytest.approx(cost, abs=1e-6)
    await engine.chains.advance(chain.id)  # a late advance delivers nothing again
    assert len(archive_files(settings)) == 1


async def test_catching_up_collects_a_step_but_never_advances_its_chain(engine: Engine) -> None:
    """`corthex status` reads (issue 13): `catch_up` brings the step's results in; only the
    worker's round (`step`) moves the chain on."""
    chain = await engine.chains.start(STOCK)
    await engine.step()  # the worker's round sends the step's batches
    [delegate] = await engine.chain_steps(chain.id)
    deadline = asyncio.get_running_loop().time() + 30
    while (await engine.status(delegate.job_id)).status is not JobStatus.COMPLETED:
        assert asyncio.get_running_loop().time() < deadline, "the step's results never came in"
        await engine.catch_up()
        await asyncio.sleep(0.05)
    assert (await engine._store.chains.get(chain.id)).step is Step.DELEGATE
    assert [s.step for s in await engine.chain_steps(chain.id)] == [Step.DELEGATE]
    await engine.step()
    assert (await engine._store.chains.get(chain.id)).step is Step.SPECIALISTS


async def test_specialists_work_on_each_provider_from_the_managers_instructions(
    engine: Engine, emulator: EmulatorServer
) -> None:
    chain = await run_until(engine, (await engine.chains.start(STOCK)).id)
    bodies = await step_bodies(engine, chain.id, Step.SPECIALISTS)
    assert sorted(cid.rsplit(":", 1)[1] for cid in bodies) == sorted(CIO_SPECIALISTS)
    assert {b["provider"] for b in bodies.values()} == {"openai", "anthropic", "gemini"}
    assert all("## Instruction from" in b["messages"][0]["content"] for b in bodies.values())
    anthropic = [b for b in bodies.values() if b["provider"] == "anthropic"]
    assert all(b.get("cache_system") for b in anthropic)  # the shared system prompts are cacheable


async def test_classifier_routes_an_unkeyworded_command_and_validates_the_answer(engine: Engine) -> None:
    reply = '[[emulator:reply={\\"department\\": \\"clo\\", \\"reason\\": \\"fits\\"}]]'
    chain = await engine.chains.start(f"Please look into this for me {reply}")
    assert chain.step is Step.CLASSIFY
    chain = await run_until(engine, chain.id, step=Step.DELEGATE)
    assert chain.departments == ("clo",) and chain.route_method == "classifier"


async def test_unknown_classifier_answer_goes_to_the_chief_of_staff(engine: Engine) -> None:
    reply = '[[emulator:reply={\\"department\\": \\"cfo\\", \\"reason\\": \\"fits\\"}]]'
    chain = await engine.chains.start(f"Please look into this {reply}")
    chain = await run_until(engine, chain.id, step=Step.DELEGATE)
    assert chain.departments == ("chief_of_staff",) and chain.route_method == "fallback"


async def test_failed_classify_falls_back_to_the_chief_of_staff(engine: Engine, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("anthropic", "create", kind="fail_batch", times=1))  # the classifier's batch
    chain = await engine.chains.start("Please look into the quarterly numbers")
    chain = await run_until(engine, chain.id)
    assert chain.status is ChainStatus.COMPLETED and chain.departments == ("chief_of_staff",)
    assert chain.route_method == "fallback"


async def test_failed_delegation_lets_specialists_work_from_the_command(
    engine: Engine, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(Fault("openai", "create", kind="row_errors", every=1, times=1))  # the CIO manager
    chain = await run_until(engine, (await engine.chains.start(STOCK)).id)
    bodies = await step_bodies(engine, chain.id, Step.SPECIALISTS)
    # their role, then the command itself (no manager's instruction)
    assert all(b["messages"][0]["content"].endswith("\n\n" + STOCK) for b in bodies.values())
    assert not any("## Instruction from" in b["messages"][0]["content"] for b in bodies.values())
    assert chain.status is ChainStatus.COMPLETED


async def test_failed_specialists_are_named_in_the_synthesis(engine: Engine, emulator: EmulatorServer) -> None:
    chain = await engine.chains.start(STOCK)
    await run_until(engine, chain.id, step=Step.SPECIALISTS)
    emulator.state.add_fault(Fault("gemini", "create", kind="row_errors", every=1, times=1))
    chain = await run_until(engine, chain.id, step=Step.SYNTHESIZE)
    [synthesis] = (await step_bodies(engine, chain.id, Step.SYNTHESIZE)).values()
    prompt = synthesis["messages"][0]["content"]
    assert "No report came from: Market Condition" in prompt and "(failed:" in prompt
    assert (await run_until(engine, chain.id)).status is ChainStatus.COMPLETED


async def test_failed_synthesis_delivers_the_specialists_reports_as_they_are(
    engine: Engine, emulator: EmulatorServer
) -> None:
    chain = await engine.chains.start(STOCK)
    await run_until(engine, chain.id, step=Step.SYNTHESIZE)
    emulator.state.add_fault(Fault("openai", "create", kind="row_errors", every=1))  # the manager's synthesis
    chain = await run_until(engine, chain.id)
    assert chain.status is ChainStatus.COMPLETED
    assert "synthesis failed" in (chain.report or "")
    for name in ("Market Condition", "Stock Analysis", "Technical Analysis", "Risk Management"):
        assert f"### {name}" in (chain.report or "")


async def test_expired_batches_never_leave_a_chain_hanging_W6(engine: Engine, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("*", "create", kind="expire", fraction=0.0))
    chain = await run_until(engine, (await engine.chains.start(STOCK)).id)
    assert chain.status is ChainStatus.COMPLETED
    assert "synthesis failed" in (chain.report or "") and "expired: " in (chain.report or "")


async def test_broadcast_runs_every_department_and_a_summary(engine: Engine, settings: Settings) -> None:
    chain = await engine.chains.start("전체 부서 현황 보고 부탁합니다")
    assert chain.broadcast and chain.route_method == "broadcast" and len(chain.departments) == 6
    chain = await run_until(engine, chain.id)
    steps = [s.step for s in await engine._store.chains.steps(chain.id)]
    assert steps == [Step.DELEGATE, Step.SPECIALISTS, Step.SYNTHESIZE, Step.SUMMARY]
    assert len(await step_bodies(engine, chain.id, Step.SPECIALISTS)) == 19
    report = chain.report or ""
    assert "## Chief of staff's summary" in report
    assert report.count("\n## ") == 7  # the summary and six departments
    assert len(archive_files(settings)) == 1


async def test_broadcast_flag_forces_every_department(engine: Engine) -> None:
    chain = await engine.chains.start(STOCK, broadcast=True)
    assert chain.broadcast and chain.departments == ("cto", "cso", "clo", "cmo", "cio", "cpo")


async def test_realtime_chain_uses_the_same_steps_without_batches(engine: Engine, emulator: EmulatorServer) -> None:
    chain = await engine.chains.start(STOCK, realtime=True)
    chain = await run_until(engine, chain.id)
    assert chain.status is ChainStatus.COMPLETED and chain.report
    assert total_batches(emulator) == 0
    cost, realtime = await engine._store.chains.cost(chain.id)
    assert cost == pytest.approx(realtime) and cost > 0


async def test_the_orgs_transport_sends_the_manager_steps_realtime_and_the_specialists_by_batch(
    engine: Engine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    default = (resources.files("corthex.org") / "default.yaml").read_text(encoding="utf-8")
    org = tmp_path / "org.yaml"
    org.write_text(default + "\ntransport: {delegate: realtime, synthesize: realtime}\n", encoding="utf-8")
    engine.settings.org_path = org
    chain = await run_until(engine, (await engine.chains.start(STOCK)).id)
    assert chain.status is ChainStatus.COMPLETED and chain.report
    assert total_batches(emulator) == 3  # the specialists only: one batch per provider
    batches = {s.step: await engine.batches(s.job_id) for s in await engine.chain_steps(chain.id) if s.job_id}
    realtime_steps = [step for step, ones in batches.items() if all(b.id.startswith("rt_") for b in ones)]
    assert realtime_steps == [Step.DELEGATE, Step.SYNTHESIZE]
    cost, realtime = await engine._store.chains.cost(chain.id)
    assert realtime / 2 < cost < realtime  # half of the calls at the batch price


@pytest.mark.parametrize("stop_at", [Step.DELEGATE, Step.SPECIALISTS, Step.SYNTHESIZE, Step.DELIVER])
async def test_restart_in_the_middle_of_each_step_loses_nothing_and_repeats_nothing(
    settings: Settings, emulator: EmulatorServer, stop_at: Step
) -> None:
    async with Engine(settings) as first:
        chain = await first.chains.start(STOCK)
        await run_until(first, chain.id, step=stop_at)
        before = total_batches(emulator)
    async with Engine(settings) as second:  # a new process: nothing in memory survives
        await second.chains.advance(chain.id)  # two advances racing must not double-submit
        await second.chains.advance(chain.id)
        chain = await run_until(second, chain.id)
    assert chain.status is ChainStatus.COMPLETED
    assert total_batches(emulator) >= before
    assert total_batches(emulator) == 1 + 3 + 1  # delegate, specialists (one per provider), synthesis
    assert len(archive_files(settings)) == 1


async def test_budget_stops_a_chain_before_it_overspends(tmp_path: Path, settings: Settings) -> None:
    tight = settings.model_copy(update={"daily_budget_usd": 0.0001})
    async with Engine(tight) as engine:
        chain = await engine.chains.start(STOCK)
        chain = await run_until(engine, chain.id)
    assert chain.status is ChainStatus.STOPPED
    assert re.search(r"daily budget of \$0\.0001 \(Asia/Seoul\) would be exceeded", chain.error or "")
    assert chain.report and "daily budget" in chain.report


async def test_chains_started_side_by_side_stay_within_the_budget_W18(tmp_path: Path, settings: Settings) -> None:
    """Each chain's check sees the steps the others have sent but not yet been charged for."""
    from sqlalchemy import func, select

    from corthex.domain.budget import estimate
    from corthex.domain.chain import ChainPlan, delegate_requests
    from corthex.store.tables import chain_steps, jobs

    async with Engine(settings) as probe:
        delegate = estimate(delegate_requests(probe.chains.org, ChainPlan(STOCK, ("cio",), False))).usd
    budget = delegate * 2.5  # room for two chains' first step, not three
    async with Engine(settings.model_copy(update={"daily_budget_usd": budget})) as engine:
        started = await asyncio.gather(*(engine.chains.start(STOCK) for _ in range(3)))
        stopped = [c for c in started if c.status is ChainStatus.STOPPED]
        assert len(stopped) == 1 and "still to come from open jobs" in (stopped[0].error or "")
        for chain in started:
            await run_until(engine, chain.id)
        # The first steps went out side by side: together their estimates stay within the budget.
        # (Later steps are checked against what the first ones actually cost, which with the
        # emulator's short answers is far less than their estimate: a thinking manager's
        # delegation is estimated on its 16,384-token floor, so later steps may go out too.)
        first_steps = select(chain_steps.c.job_id).where(chain_steps.c.step == "delegate")
        async with engine._store.engine.connect() as conn:
            query = select(func.sum(jobs.c.estimate_usd)).where(jobs.c.id.in_(first_steps))
            committed = (await conn.execute(query)).scalar_one()
        assert delegate * 1.99 <= committed <= budget
        assert await engine._store.chains.spent_since(0) <= budget


class Recorded:
    """A sink that only some processes have, as Telegram is only in `corthex serve`."""

    name = "telegram"

    def __init__(self) -> None:
        self.reports: list[tuple[str, str]] = []

    async def deliver(self, chain: object, report: str) -> None:
        self.reports.append((chain.id, report))  # type: ignore[attr-defined]


async def test_a_chain_finished_by_a_worker_without_the_sink_is_delivered_by_a_process_with_it(
    settings: Settings,
) -> None:
    """Several processes share the work: a chain started from Telegram and advanced to its end by
    a plain `corthex worker` still reaches Telegram, once, from a process that has the bot."""
    serve_a, serve_b = Recorded(), Recorded()
    async with Engine(settings) as first, Engine(settings) as second, Engine(settings) as worker:
        first.add_delivery(serve_a)
        second.add_delivery(serve_b)
        chain = await first.chains.start(STOCK, origin="telegram", origin_ref="42")
        chain = await run_until(worker, chain.id)  # the worker does every step and delivers
        assert chain.status is ChainStatus.COMPLETED and chain.report
        assert serve_a.reports == serve_b.reports == []
        assert len(archive_files(settings)) == 1  # the worker's own sink
        await asyncio.gather(first.step(), second.step())  # both have the sink; one sends
        await asyncio.gather(first.step(), second.step())
        assert serve_a.reports + serve_b.reports == [(chain.id, chain.report)]
        await worker.step()
        assert len(archive_files(settings)) == 1


async def test_prompt_caching_lowers_the_cost_of_repeated_specialist_prompts(engine: Engine) -> None:
    first = await run_until(engine, (await engine.chains.start(STOCK)).id)
    second = await run_until(engine, (await engine.chains.start(STOCK + " 다시")).id)
    cached = []
    for chain in (first, second):
        [row] = [s for s in await engine._store.chains.steps(chain.id) if s.step is Step.SPECIALISTS]
        async for chunk in engine._store.iter_results(row.job_id):
            cached += [(chain.id, r["cached_tokens"]) for r in chunk if r["provider"] == "anthropic"]
    assert any(tokens for cid, tokens in cached if cid == second.id)


async def test_wire_ids_stay_within_every_providers_limit_for_the_longest_agent_ids_W4(engine: Engine) -> None:
    from sqlalchemy import select

    from corthex.store.tables import requests

    chain = await run_until(engine, (await engine.chains.start(STOCK, broadcast=True)).id)
    async with engine._store.engine.connect() as conn:
        rows = (await conn.execute(select(requests.c.id, requests.c.custom_id))).all()
    assert any("technical_analysis_specialist" in r.custom_id for r in rows)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", r.id) for r in rows)
    assert chain.status is ChainStatus.COMPLETED


async def test_empty_and_oversized_commands_are_refused(engine: Engine) -> None:
    with pytest.raises(UsageError, match="empty"):
        await engine.chains.start("   ")
    with pytest.raises(UsageError, match="limit is 20000"):
        await engine.chains.start("x" * 20_001)
    assert await engine._store.chains.list() == []


async def test_chains_started_beside_the_running_worker_are_advanced_once(
    engine: Engine, settings: Settings, emulator: EmulatorServer
) -> None:
    """As in `corthex serve`: a REST or Telegram start runs in the worker's own process; the
    worker's tick must not step into a chain that the start still holds (same owner, same lease)."""
    done: list[str] = []
    both = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, ChainDone):
            done.append(event.chain_id)
            if len(done) >= 2:
                both.set()

    engine.bus.subscribe(on_event)
    emulator.state.add_fault(Fault("*", "realtime", kind="slow", delay=0.4))  # the start holds it a while
    ticking = asyncio.Event()
    step = engine.step

    async def counted_step(*args: object) -> None:
        ticking.set()
        await step(*args)  # type: ignore[arg-type]

    engine.step = counted_step  # type: ignore[method-assign]
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    try:
        await asyncio.wait_for(ticking.wait(), timeout=30)  # the loop is ticking
        realtime = await engine.chains.start(STOCK, realtime=True)
        batch = await engine.chains.start(STOCK)
        await asyncio.wait_for(both.wait(), timeout=60)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
    assert sorted(done) == sorted([realtime.id, batch.id])  # each delivered once
    assert len(archive_files(settings)) == 2
    stats = emulator.state.stats()
    realtime_calls = sum(stats[p]["calls"].get("realtime", 0) for p in ("openai", "anthropic", "gemini"))
    assert realtime_calls == 6  # manager, four specialists, synthesis: each asked once
    assert total_batches(emulator) == 5  # the batch chain's three steps, one batch per provider each
