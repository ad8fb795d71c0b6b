"""Issue 17: single calls on a faster tier (engine/tiers.py) through the official SDKs against the
emulator's realtime and flex endpoints: flex where the model takes it (priced at the batch rates),
realtime otherwise; a rate limit answered 429 with retry-after is waited out as told; the calls in
flight stay within the per-provider bound."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest

from corthex.domain.pricing import batch_cost, realtime_cost
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinalResult, ResultStatus
from corthex.domain.tiers import Tier
from corthex.emulator import EmulatorServer
from corthex.engine.context import EngineContext
from corthex.engine.tiers import TierPolicy, send_on_tier
from corthex.providers.anthropic import AnthropicProvider
from corthex.providers.base import Provider, WireItem
from corthex.providers.gemini import GeminiProvider
from corthex.providers.openai import OpenAIProvider
from corthex.store.base import Store
from corthex.testing import fast_settings

pytestmark = pytest.mark.usefixtures("emulator_env")

KOREAN = "이 리뷰를 한 문장으로 요약해 주세요: 배송이 빠르고 포장이 꼼꼼했어요."
PROVIDER_OF = {"gpt": ProviderName.OPENAI, "claude": ProviderName.ANTHROPIC, "gemini": ProviderName.GEMINI}


def _context(tmp_path: Path, concurrency: int = 8) -> EngineContext:
    providers: dict[ProviderName, Provider] = {
        ProviderName.OPENAI: OpenAIProvider(tmp_path / "openai"),
        ProviderName.ANTHROPIC: AnthropicProvider(tmp_path / "anthropic"),
        ProviderName.GEMINI: GeminiProvider(tmp_path / "gemini"),
    }
    settings = fast_settings(tmp_path, provider_concurrency=concurrency)
    return EngineContext(settings, cast(Store, None), providers)  # single calls never touch the store


def _items(model: str, n: int) -> list[WireItem]:
    provider = next(p for prefix, p in PROVIDER_OF.items() if model.startswith(prefix))
    return [
        WireItem(f"w{i}", LLMRequest(f"q{i}", model, provider, (Message("user", f"{KOREAN} ({i})"),))) for i in range(n)
    ]


async def _send(ctx: EngineContext, items: list[WireItem], tier: Tier, **policy: Any) -> list[FinalResult]:
    try:
        return [final async for final in send_on_tier(ctx, items, tier, policy=TierPolicy(**policy))]
    finally:
        for provider in ctx.providers.values():
            await provider.aclose()


def _sent_json(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r["json"] for r in emulator.state.openai_requests if r["path"] == "/chat/completions"]


async def test_a_flex_call_on_gpt5_mini_carries_service_tier_flex_and_is_priced_at_batch_rates(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    [final] = await _send(_context(tmp_path), _items("gpt-5-mini", 1), Tier.FLEX)

    assert [body.get("service_tier") for body in _sent_json(emulator)] == ["flex"]
    assert final.status is ResultStatus.SUCCEEDED and final.content
    assert final.tier is Tier.FLEX
    assert final.usage is not None
    assert final.cost_usd == batch_cost(ProviderName.OPENAI, "gpt-5-mini", final.usage)
    assert final.realtime_cost_usd == realtime_cost(ProviderName.OPENAI, "gpt-5-mini", final.usage)
    assert final.cost_usd is not None and final.realtime_cost_usd is not None
    assert final.cost_usd < final.realtime_cost_usd
    assert emulator.state.single_calls.snapshot()["answered"] == {"openai": {"flex": 1}}


async def test_a_gemini_flex_call_carries_service_tier_flex_and_is_priced_at_batch_rates(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The Gemini Developer API's flex tier (Preview, half price): google-genai sends
    `serviceTier: "flex"` at the request's top level; the answer's `usageMetadata.serviceTier`
    says flex served it."""
    [final] = await _send(_context(tmp_path), _items("gemini-3-flash-preview", 1), Tier.FLEX)

    assert [body.get("serviceTier") for body in emulator.state.gemini.generated] == ["flex"]
    assert final.status is ResultStatus.SUCCEEDED and final.content, final.error
    assert final.tier is Tier.FLEX
    assert final.usage is not None and final.cost_usd is not None and final.realtime_cost_usd is not None
    assert final.cost_usd == batch_cost(ProviderName.GEMINI, "gemini-3-flash-preview", final.usage)
    assert final.cost_usd < final.realtime_cost_usd
    assert emulator.state.single_calls.snapshot()["answered"] == {"gemini": {"flex": 1}}


async def test_gemini_flex_that_stays_unavailable_goes_realtime(emulator: EmulatorServer, tmp_path: Path) -> None:
    emulator.state.config.update({"flex_unavailable": 1.0})
    try:
        [final] = await _send(
            _context(tmp_path), _items("gemini-3-flash-preview", 1), Tier.FLEX, call_attempts=2, backoff=0.01
        )
    finally:
        emulator.state.config.update({"flex_unavailable": 0.0})

    assert final.status is ResultStatus.SUCCEEDED and final.tier is Tier.REALTIME, final.error
    assert final.cost_usd == final.realtime_cost_usd
    assert [body.get("serviceTier") for body in emulator.state.gemini.generated] == ["flex", "flex", None]
    seen = emulator.state.single_calls.snapshot()
    assert seen["unavailable"] == {"gemini": 2} and seen["answered"] == {"gemini": {"realtime": 1}}


@pytest.mark.parametrize("model", ["gpt-4.1-mini", "claude-haiku-4-5", "gemini-2.5-flash"])
async def test_a_model_without_flex_is_answered_realtime_at_the_full_price(
    emulator: EmulatorServer, tmp_path: Path, model: str
) -> None:
    [final] = await _send(_context(tmp_path), _items(model, 1), Tier.FLEX)

    assert final.status is ResultStatus.SUCCEEDED, final.error
    assert final.tier is Tier.REALTIME
    assert final.usage is not None
    assert final.cost_usd == realtime_cost(final_provider(model), model, final.usage)
    assert all("service_tier" not in body for body in _sent_json(emulator))  # the emulator refuses it (400)
    assert all("serviceTier" not in body for body in emulator.state.gemini.generated)


def final_provider(model: str) -> ProviderName:
    return next(p for prefix, p in PROVIDER_OF.items() if model.startswith(prefix))


async def test_flex_that_stays_unavailable_goes_realtime(emulator: EmulatorServer, tmp_path: Path) -> None:
    emulator.state.config.update({"flex_unavailable": 1.0})
    try:
        [final] = await _send(_context(tmp_path), _items("gpt-5-mini", 1), Tier.FLEX, call_attempts=2, backoff=0.01)
    finally:
        emulator.state.config.update({"flex_unavailable": 0.0})

    assert final.status is ResultStatus.SUCCEEDED and final.tier is Tier.REALTIME
    assert final.cost_usd == final.realtime_cost_usd
    seen = emulator.state.single_calls.snapshot()
    assert seen["unavailable"] == {"openai": 2} and seen["answered"] == {"openai": {"realtime": 1}}


@pytest.mark.parametrize("model", ["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"])
async def test_under_a_rate_limit_every_answer_comes_back_waiting_as_the_429_says(
    emulator: EmulatorServer, tmp_path: Path, model: str
) -> None:
    """3 calls per 0.5 s window, 12 requests, at most 4 in flight. The sender's own backoff is a
    minute: only by waiting what each 429 says (retry-after, Gemini's RetryInfo) does it finish in
    seconds; the SDKs' retries are off, so nothing is waited twice."""
    emulator.state.config.update({"rate_limits": {model: 3}, "rate_window_seconds": 0.5, "realtime_seconds": 0.05})
    started = time.monotonic()
    try:
        finals = await _send(_context(tmp_path, concurrency=4), _items(model, 12), Tier.REALTIME, backoff=60.0)
    finally:
        emulator.state.config.update({"rate_limits": {}, "rate_window_seconds": 60.0, "realtime_seconds": 0.0})
    elapsed = time.monotonic() - started

    provider = final_provider(model).value
    seen = emulator.state.single_calls.snapshot()
    assert sorted(f.request_id for f in finals) == sorted(f"w{i}" for i in range(12))
    assert all(f.status is ResultStatus.SUCCEEDED and f.tier is Tier.REALTIME for f in finals)
    assert seen["answered"] == {provider: {"realtime": 12}}
    assert seen["refused"][provider] >= 1  # the limit was met, and waited out
    assert 0 < seen["peak"][provider] <= 4
    assert 1.5 <= elapsed < 30  # four windows at least; a minute's backoff never taken


async def test_the_calls_in_flight_never_exceed_the_per_provider_bound(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.state.config.update({"realtime_seconds": 0.1})
    try:
        finals = await _send(_context(tmp_path, concurrency=3), _items("gpt-4.1-mini", 10), Tier.REALTIME)
    finally:
        emulator.state.config.update({"realtime_seconds": 0.0})

    assert len(finals) == 10 and all(f.status is ResultStatus.SUCCEEDED for f in finals)
    assert emulator.state.single_calls.snapshot()["peak"] == {"openai": 3}
