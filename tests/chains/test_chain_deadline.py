"""A chain with a deadline against the emulator (issue 17): OpenAI's and Anthropic's batches take
hours (the emulator's turnaround), Gemini's a second or two (and the engine has seen one). The
chain's deadline is 40 seconds: far shorter than the slow batches. Its classify and delegate steps
go realtime (the org's transport); its specialists' step, predicted to take half an hour by batch,
is moved to the faster tiers at once (flex for the OpenAI model, realtime for Claude); its
synthesis, on Gemini, stays a batch at half price. The chain completes before its deadline."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from chain_support import run_until

from corthex.domain.chain import ChainStatus
from corthex.domain.events import ChainStepSubmitted, Event, RequestsMoved
from corthex.emulator import EmulatorServer
from corthex.engine.engine import ChainRow, Engine
from corthex.errors import UsageError

ORG = """
chief_of_staff: research
classifier_model: claude-haiku-4-5
transport: {classify: realtime, delegate: realtime}
broadcast_keywords: [전체]
broadcast_departments: [research]
departments:
  - id: research
    name: Research
    division: analysis
    remit: Market and company research.
    manager: {id: lead, name: Lead, model: gemini-2.5-flash, prompt: "You lead the research team."}
    specialists:
      - {id: analyst, name: Analyst, model: gpt-5-mini, prompt: "You analyse the numbers."}
      - {id: writer, name: Writer, model: claude-haiku-4-5, prompt: "You write the summary."}
"""
SLOW = {"median_seconds": 10_000, "spread": 0}
DEADLINE_S = 40.0


def _lines(rows: list[dict[str, Any]]) -> tuple[dict[str, int], float]:
    return dict(Counter(str(r["tier"]) for r in rows)), sum(float(r["cost_usd"] or 0.0) for r in rows)


@pytest.fixture
def org_engine(engine: Engine, tmp_path: Path) -> Engine:
    org = tmp_path / "org.yaml"
    org.write_text(ORG, encoding="utf-8")
    engine.settings.org_path = org
    return engine


async def test_a_chain_meets_a_deadline_shorter_than_the_batches_with_each_step_on_the_cheapest_tier_in_time(
    org_engine: Engine, emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = org_engine
    warm = await engine.submit([{"custom_id": "w", "model": "gemini-2.5-flash", "prompt": "준비"}])
    await engine.wait(warm.job_id, timeout=30)  # the engine has seen a Gemini batch end in seconds
    emulator.config.update({"turnaround": {"openai": SLOW, "anthropic": SLOW}})
    try:
        run = await _run_with_deadline(engine)
    finally:
        emulator.config.update({"turnaround": {}})
    chain, started, finished, at_submission, moved = run
    assert chain.status is ChainStatus.COMPLETED and chain.report
    assert chain.deadline is not None and chain.completed_at is not None and chain.completed_at < chain.deadline
    final = await engine.chain_forecast(chain.id)
    assert final.predicted_finish_at is None and final.finished_at == chain.completed_at
    rows: list[tuple[str, str, dict[str, int], float, float | None, float | None, float | None, float | None]] = []
    for step in await engine.chain_steps(chain.id):
        assert step.job_id is not None
        tiers, cost = _lines([line async for line in engine.results(step.job_id)])
        seen = final.step(step.step.value)
        assert seen is not None and seen.state == "done"
        name = step.step.value
        rows.append(
            (
                name,
                seen.transport,
                tiers,
                cost,
                seen.deadline,
                at_submission.get(name),
                moved.get(name),
                seen.finished_at,
            )
        )
    by_step = {r[0]: r for r in rows}
    assert by_step["classify"][1:3] == ("realtime", {"realtime": 1})
    assert by_step["delegate"][1:3] == ("realtime", {"realtime": 1})
    assert by_step["specialists"][1:3] == ("batch", {"flex": 1, "realtime": 1})  # moved: the batch would be late
    assert by_step["synthesize"][1:3] == ("batch", {"batch": 1})  # Gemini's batch is in time: half price
    assert all(r[3] > 0 for r in rows) and all(r[5] is not None for r in rows)
    # the specialists' batch was predicted to take half an hour; moved, a realtime step's time (30 s)
    specialists_at_submission, specialists_moved = by_step["specialists"][5], by_step["specialists"][6]
    assert specialists_at_submission > chain.deadline + 1000
    assert specialists_moved is not None and specialists_moved < specialists_at_submission - 1000
    specialists_deadline = by_step["specialists"][4]
    assert specialists_deadline is not None and specialists_deadline <= chain.deadline
    assert by_step["classify"][4] is None  # a realtime step's job needs no deadline of its own
    stats = emulator.state.stats()
    assert stats["openai"]["batches_created"] == 0 and stats["anthropic"]["batches_created"] == 0
    with capsys.disabled():  # the closing note's table
        predicted = _at(at_submission.get("chain"), started)
        print(
            f"\nchain {chain.id}: deadline +{chain.deadline - started:.1f}s, predicted {predicted} at its start, ",
            end="",
        )
        print(f"done +{finished - started:.1f}s (uptime: {os.getloadavg()[0]:.2f})")
        print(
            f"{'step':12} {'transport':9} {'tiers':19} {'cost $':>8}  {'job deadline':>12} {'predicted':>10} "
            f"{'moved':>10} {'actual':>8}"
        )
        for name, transport, tiers, cost, deadline, guess, after, actual in rows:
            tier_text = ", ".join(f"{k}×{v}" for k, v in sorted(tiers.items()))
            times = " ".join(
                f"{_at(t, started):>{w}}" for t, w in ((deadline, 12), (guess, 10), (after, 10), (actual, 8))
            )
            print(f"{name:12} {transport:9} {tier_text:19} {cost:8.6f}  {times}")


def _at(moment: float | None, started: float) -> str:
    return "-" if moment is None else f"+{moment - started:.1f}s"


async def _run_with_deadline(
    engine: Engine,
) -> tuple[ChainRow, float, float, dict[str, float], dict[str, float]]:
    """Run the chain with its deadline; each step's predicted finish when it was submitted (the
    chain's too, as `chain`), and once the mover sent it faster."""
    at_submission: dict[str, float] = {}
    moved: dict[str, float] = {}

    async def on_event(event: Event) -> None:
        if isinstance(event, ChainStepSubmitted):
            forecast = await engine.chain_forecast(event.chain_id)
            if forecast.predicted_finish_at is not None:
                at_submission.setdefault("chain", forecast.predicted_finish_at)
            seen, name, into = forecast.step(event.step), event.step, at_submission
        else:
            assert isinstance(event, RequestsMoved)
            name = event.job_id.rsplit("_", 1)[-1]
            seen, into = (await engine.chain_forecast(chain.id)).step(name), moved
        if seen is not None and seen.predicted_finish_at is not None:
            into[name] = seen.predicted_finish_at

    engine.bus.subscribe(on_event, types=(ChainStepSubmitted, RequestsMoved))
    started = time.time()
    chain = await engine.start_chain(
        "삼성전자 분기 실적을 분석해 주세요", deadline=f"{DEADLINE_S:.0f}s", deadline_margin=4
    )
    assert chain.deadline == pytest.approx(started + DEADLINE_S, abs=2) and chain.deadline_margin == 4
    while (chain := await engine.chain(chain.id)).status is ChainStatus.RUNNING:
        assert time.time() < started + 60, f"chain stuck at {chain.step}"
        assert (await engine.chain_forecast(chain.id)).predicted_finish_at is not None
        await engine.step()
        await engine._sleep_until_due()
    return chain, started, time.time(), at_submission, moved


async def test_without_a_deadline_no_step_job_has_one_and_a_bad_deadline_is_refused(org_engine: Engine) -> None:
    chain = await org_engine.start_chain("삼성전자 분기 실적을 분석해 주세요")
    chain = await run_until(org_engine, chain.id)
    assert chain.status is ChainStatus.COMPLETED and chain.deadline is None
    forecast = await org_engine.chain_forecast(chain.id)
    assert [s.deadline for s in forecast.steps] == [None] * len(forecast.steps)
    with pytest.raises(UsageError, match="neither a duration"):
        await org_engine.start_chain("분석", deadline="soon")
    assert len(await org_engine.list_chains()) == 1  # nothing stored
