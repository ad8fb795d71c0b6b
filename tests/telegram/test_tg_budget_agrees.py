"""One budget reading (`Engine.budget_status`): Telegram's /budget, the REST /costs (the dashboard's
meter) and the check before a submission say the same "left" on the same state — budget less
today's cost less what open jobs will still cost. Before, /budget left out the open jobs: it
said there was room for a job the submission check then refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A

from corthex.api.app import create_app
from corthex.config import Settings
from corthex.domain.budget import estimate
from corthex.engine.engine import Engine
from corthex.engine.intake import read_objects
from corthex.errors import BudgetExceeded
from corthex.telegram import TelegramService
from corthex.telegram.messages import money

PROBE = {
    "custom_id": "probe",
    "model": "gpt-5-mini",
    "prompt": "다음 분기 반도체 수요를 한 문단으로 전망해줘",
    "max_output_tokens": 400,
}
HELD = [{**PROBE, "custom_id": f"held-{i}"} for i in range(4)]  # queued: estimated, not yet sent


@asynccontextmanager
async def rest_on(engine: Engine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The REST app over this test's engine (its lifespan runs the worker loop, as `serve` does)."""

    @asynccontextmanager
    async def borrowed(_: Settings) -> AsyncIterator[Engine]:
        yield engine

    app = create_app(settings.model_copy(update={"telegram_bot_token": None}), engine_factory=borrowed)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            yield client


async def budget_reply(fake: FakeBotApi) -> str:
    before = len(fake.texts(CHAT_A))
    fake.message(CHAT_A, "/budget")
    [reply] = await fake.wait_for(lambda: fake.texts(CHAT_A)[before:] or None, what="the /budget reply")
    return reply


async def test_telegram_budget_rest_costs_and_the_submission_check_agree(
    fake: FakeBotApi, engine: Engine, settings: Settings, service: TelegramService
) -> None:
    needed = estimate(read_objects([PROBE], skip_invalid=False).requests()).usd  # what the check counts
    engine.settings.daily_budget_usd = 100.0  # under a budget, jobs record their estimates
    done = await engine.submit([{**PROBE, "custom_id": "spent"}])
    await engine.wait(done.job_id, timeout=30)
    spent = sum([line["cost_usd"] async for line in engine.results(done.job_id)])
    await engine.submit(HELD, queue=True)
    held = len(HELD) * needed
    assert spent > 0

    # Half the probe is left: budget - spent - held. (budget - spent, what /budget said, is far more.)
    engine.settings.daily_budget_usd = spent + held + needed / 2
    async with rest_on(engine, settings) as rest:
        reply = await budget_reply(fake)
        assert f"{money(needed / 2)} left" in reply and f"~{money(held)}" in reply
        costs: dict[str, Any] = (await rest.get("/costs?days=1")).json()
        assert costs["remaining_usd"] == pytest.approx(needed / 2)
        assert costs["today_usd"] == pytest.approx(spent) and costs["held_usd"] == pytest.approx(held)
        with pytest.raises(BudgetExceeded):
            await engine.submit([PROBE])

        # Room for twice the probe: all three say so, and the probe goes in.
        engine.settings.daily_budget_usd = spent + held + 2 * needed
        reply = await budget_reply(fake)
        assert f"{money(2 * needed)} left" in reply
        costs = (await rest.get("/costs?days=1")).json()
        assert costs["remaining_usd"] == pytest.approx(2 * needed)
        await engine.submit([PROBE], queue=True)
        status = await engine.budget_status()  # the one reading behind all three
        assert (status.spent, status.held) == (pytest.approx(spent), pytest.approx(held + needed))
