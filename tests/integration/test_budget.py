"""The daily budget before every job submission (DESIGN.md §4, LESSONS W18): an open job's
estimate counts until its results land, so submissions side by side cannot each pass the check
on the same old total; then actual cost takes the estimate's place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from engine_support import mixed

from corthex.config import Settings
from corthex.domain.budget import estimate
from corthex.domain.parsing import parse_request
from corthex.domain.pricing import ModelPrice
from corthex.engine.engine import Engine
from corthex.errors import BudgetExceeded, UnpricedModel
from corthex.testing import fast_settings

JOB = mixed(12)


def job_estimate() -> float:
    return estimate(parse_request(item) for item in JOB).usd


def budgeted(tmp_path: Path, budget: float) -> Settings:
    return fast_settings(tmp_path, daily_budget_usd=budget)


async def test_a_job_over_the_budget_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    async with Engine(budgeted(tmp_path, job_estimate() * 0.9)) as engine:
        with pytest.raises(BudgetExceeded, match=r"nothing submitted: the daily budget of \$0\.00\d+ \(Asia/Seoul\)"):
            await engine.submit(JOB)
        assert await engine.jobs() == []


async def test_an_open_job_counts_against_the_budget_until_its_results_land_W18(tmp_path: Path) -> None:
    async with Engine(budgeted(tmp_path, job_estimate() * 1.5)) as engine:
        first = await engine.submit(JOB)
        assert await engine._store.chains.outstanding_estimate() == pytest.approx(job_estimate())
        with pytest.raises(BudgetExceeded, match="still to come from open jobs"):
            await engine.submit(JOB)  # no result yet: the seed saw $0 spent here
        summary = await engine.wait(first.job_id, timeout=60)
        assert summary.succeeded == len(JOB)
        # reconciled: the short emulator answers cost far less than the estimate
        assert 0 < await engine._store.chains.spent_since(0) < job_estimate() * 0.5
        assert await engine._store.chains.outstanding_estimate() == 0
        await engine.submit(JOB)


def slowed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow database: without a guard, every check reads before any job is recorded."""
    read = engine._store.chains.outstanding_estimate

    async def slow_read() -> float:
        value = await read()
        await asyncio.sleep(0.05)
        return value

    monkeypatch.setattr(engine._store.chains, "outstanding_estimate", slow_read)


async def test_submissions_side_by_side_see_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Engine(budgeted(tmp_path, job_estimate() * 1.5)) as engine:
        slowed(engine, monkeypatch)
        outcomes = await asyncio.gather(*(engine.submit(JOB) for _ in range(4)), return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == ["BudgetExceeded"] * 3 + ["SubmitReport"]
        assert len(await engine.jobs()) == 1


async def test_processes_side_by_side_on_postgresql_see_each_other(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two engines (as two processes would) on one PostgreSQL: an advisory lock spans them."""
    settings = budgeted(tmp_path, job_estimate() * 1.5).model_copy(update={"database_url": pg_url})
    async with Engine(settings) as one, Engine(settings) as other:
        slowed(one, monkeypatch)
        slowed(other, monkeypatch)
        outcomes = await asyncio.gather(one.submit(JOB), other.submit(JOB), return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == ["BudgetExceeded", "SubmitReport"]
        assert len(await one.jobs()) == 1


def one(model: str, n: int = 3) -> list[dict[str, object]]:
    return [
        {"custom_id": f"u{i}", "model": model, "prompt": "분기 보고서를 요약해 주세요", "max_output_tokens": 200}
        for i in range(n)
    ]


@pytest.mark.parametrize("model", ["gpt-5-turbo-unknown", "gemini-9-ultra", "claude-nonesuch-1"])
async def test_with_a_budget_a_model_without_a_price_is_refused_naming_it(tmp_path: Path, model: str) -> None:
    """Issue 12, item 4: an unpriced model used to estimate $0 and record a null cost, so any
    amount could be sent under any budget."""
    async with Engine(budgeted(tmp_path, 100.0)) as engine:
        with pytest.raises(UnpricedModel, match=f"no price is known for .* model '{model}'.*CORTHEX_MODEL_PRICES"):
            await engine.submit(one(model))
        assert await engine.jobs() == []


async def test_an_alias_the_router_takes_is_priced_as_its_canonical_name(tmp_path: Path) -> None:
    alias, canonical = (
        estimate(parse_request(r) for r in one("models/gemini-2.5-pro")),
        estimate(parse_request(r) for r in one("gemini-2.5-pro")),
    )
    assert alias.usd == canonical.usd > 0 and not alias.unpriced
    async with Engine(budgeted(tmp_path, 100.0)) as engine:
        job = await engine.submit(one("models/gemini-2.5-pro"))
        await engine.wait(job.job_id, timeout=60)
        assert await engine._store.chains.spent_since(0) > 0


async def test_a_price_given_by_the_user_lets_the_model_in_and_is_what_it_costs(tmp_path: Path) -> None:
    price = ModelPrice(input=2.0, output=8.0)
    settings = fast_settings(tmp_path, daily_budget_usd=100.0, model_prices={"gpt-5-house-tuned": price})
    async with Engine(settings) as engine:
        job = await engine.submit(one("gpt-5-house-tuned"))
        summary = await engine.wait(job.job_id, timeout=60)
        assert summary.succeeded == 3 and summary.cost_usd > 0
        lines = [line async for line in engine.results(job.job_id)]
        usage = lines[0]["usage"]
        expected = (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 8.0) / 1e6 * 0.5  # the batch discount
        assert lines[0]["cost_usd"] == pytest.approx(expected)
