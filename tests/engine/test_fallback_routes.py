"""A route of several providers is a fallback chain (issue 15): a request whose retryable
attempts are used up on one provider goes to the next in its route, with its attempts counted
anew there, and its output line says which provider answered. On providers held in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corthex.domain.registry import ProviderName, fallback_after, provider_for_model, set_routes
from corthex.engine.engine import Engine
from corthex.providers.registry import load_providers
from corthex.testing import FAKE_PACE, FakeProvider, fake_providers, fast_settings, row_error

KOREAN = "배송이 빨라서 좋았어요. 긍정인가요?"


@pytest.fixture(autouse=True)
def _routes() -> Iterator[None]:
    load_providers(None)  # the shipped compatible servers: groq is a route's second stop here
    yield
    set_routes([])


def test_a_chain_naming_a_provider_twice_or_mixing_request_formats_is_refused() -> None:
    with pytest.raises(ValueError, match="names a provider twice"):
        set_routes([("gpt-5-mini*", ["openai", "groq", "openai"])])
    with pytest.raises(ValueError, match="mixes request formats"):
        set_routes([("claude-haiku*", ["anthropic", "groq"])])


def test_the_first_provider_of_a_route_serves_and_the_next_takes_over() -> None:
    set_routes([("gpt-5-mini*", ["openai", "groq", "deepinfra"]), ("gpt-*", "openai")])
    assert provider_for_model("gpt-5-mini") is ProviderName.OPENAI
    assert fallback_after("gpt-5-mini", ProviderName.OPENAI) == "groq"
    assert fallback_after("gpt-5-mini", ProviderName("groq")) == "deepinfra"
    assert fallback_after("gpt-5-mini", ProviderName("deepinfra")) is None  # the end of the chain
    assert fallback_after("gpt-5", ProviderName.OPENAI) is None  # a route of one: no fallback


async def test_a_request_failing_on_its_provider_is_answered_by_the_next_in_its_route(tmp_path: Path) -> None:
    openai = FakeProvider(ProviderName.OPENAI, row_error)  # every row fails, retryably
    groq = FakeProvider(ProviderName("groq"))
    providers = fake_providers(openai=openai) | {ProviderName("groq"): groq}
    async with Engine(fast_settings(tmp_path, max_attempts=2, **FAKE_PACE), providers=providers) as engine:
        set_routes([("gpt-5-mini*", ["openai", "groq"])])  # after the engine read its (empty) providers file
        report = await engine.submit(
            [
                {"custom_id": "routed", "model": "gpt-5-mini", "prompt": KOREAN},
                {"custom_id": "alone", "model": "gpt-5", "prompt": KOREAN},  # no route: no fallback
            ]
        )
        summary = await engine.wait(report.job_id, timeout=60)
        lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    routed, alone = lines["routed"], lines["alone"]
    assert (routed["status"], routed["provider"], routed["attempts"]) == ("succeeded", "groq", 1)
    assert routed["content"] == f"answer to: {KOREAN}"
    assert (alone["status"], alone["provider"], alone["attempts"]) == ("failed", "openai", 2)
    assert summary.succeeded == 1 and summary.failed == 1
    assert openai.created == 4 and groq.created == 1  # two tries of each model on OpenAI, then Groq once


async def test_a_request_failing_everywhere_ends_on_the_last_provider(tmp_path: Path) -> None:
    bedrock = FakeProvider(ProviderName("bedrock"), row_error)
    anthropic = FakeProvider(ProviderName.ANTHROPIC, row_error)
    providers = fake_providers(anthropic=anthropic) | {ProviderName("bedrock"): bedrock}
    async with Engine(fast_settings(tmp_path, max_attempts=1, **FAKE_PACE), providers=providers) as engine:
        set_routes([("claude-haiku*", ["anthropic", "bedrock"])])
        report = await engine.submit([{"custom_id": "x", "model": "claude-haiku-4-5", "prompt": KOREAN}])
        await engine.wait(report.job_id, timeout=60)
        [line] = [line async for line in engine.results(report.job_id)]
    assert (line["status"], line["provider"]) == ("failed", "bedrock") and line["error"]["message"]


async def test_a_batch_its_provider_will_not_create_moves_down_the_route(tmp_path: Path) -> None:
    """The provider is down (every create refused): the requests go to the next provider of their
    route instead of failing."""
    openai = FakeProvider(ProviderName.OPENAI)
    openai.fail("create", status_code=400, retryable=False, times=None)
    groq = FakeProvider(ProviderName("groq"))
    providers = fake_providers(openai=openai) | {ProviderName("groq"): groq}
    settings = fast_settings(tmp_path, submit_max_failures=1, **FAKE_PACE)
    async with Engine(settings, providers=providers) as engine:
        set_routes([("gpt-5-mini*", ["openai", "groq"])])
        report = await engine.submit(
            [{"custom_id": f"k{i}", "model": "gpt-5-mini", "prompt": KOREAN} for i in range(3)]
        )
        summary = await engine.wait(report.job_id, timeout=60)
        lines = [line async for line in engine.results(report.job_id)]
    assert summary.succeeded == 3 and {(line["status"], line["provider"]) for line in lines} == {("succeeded", "groq")}
    assert openai.created == 0 and groq.created == 1
