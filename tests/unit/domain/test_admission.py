"""What a provider would refuse is refused at intake, naming the line and the field (issue 12
item 12; evidence: docs/wire/request-limits.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.errors import InputProblem

PROMPT = "다음 문장을 요약해 주세요: 오늘 서울은 맑습니다."


def line(**fields: Any) -> bytes:
    return orjson.dumps({"custom_id": "k1", "prompt": PROMPT, **fields})


def parsed(**fields: Any) -> LLMRequest | InputProblem:
    good = orjson.dumps({"custom_id": "ok", "model": "gpt-4o-mini", "prompt": PROMPT})
    first, second = parse_lines([good, line(**fields)])
    assert isinstance(first, LLMRequest)
    return second


def refused(field: str, *words: str, **fields: Any) -> None:
    problem = parsed(**fields)
    assert isinstance(problem, InputProblem), f"accepted: {fields}"
    assert (problem.line, problem.field) == (2, field)
    assert all(w in problem.reason for w in words), problem.reason


def accepted(**fields: Any) -> None:
    request = parsed(**fields)
    assert isinstance(request, LLMRequest), request


# --- provider and model ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model", "owner"),
    [
        ("anthropic", "gpt-4o", "openai"),
        ("gemini", "claude-sonnet-4-6", "anthropic"),
        ("openai", "gemini-2.5-flash", "gemini"),
        ("anthropic", "o3-mini", "openai"),
    ],
)
def test_a_model_of_another_provider_is_refused(provider: str, model: str, owner: str) -> None:
    refused("provider", model, f"served by {owner}", provider=provider, model=model)


def test_an_explicit_provider_that_serves_the_model_or_an_unknown_model_is_taken() -> None:
    accepted(provider="anthropic", model="claude-haiku-4-5")
    accepted(provider="openai", model="my-fine-tune-v2")  # no provider claims the name: the user's word


# --- output budget ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "largest"),
    [("claude-haiku-4-5", 64_000), ("claude-3-5-haiku-20241022", 8_192), ("gpt-4o-mini", 16_384), ("o3", 100_000)],
)
def test_max_output_tokens_over_the_models_largest_is_refused(model: str, largest: int) -> None:
    accepted(model=model, max_output_tokens=largest)
    refused("max_output_tokens", f"{largest:,}", model, model=model, max_output_tokens=largest + 1)


def test_the_field_is_named_as_the_line_wrote_it() -> None:
    refused("max_tokens", "64,000", model="claude-haiku-4-5", max_tokens=200_000)


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "claude-nova-9", "gpt-zz-1"])
def test_a_model_whose_maximum_is_unknown_is_not_refused_on_a_guess(model: str) -> None:
    accepted(model=model, max_output_tokens=1_000_000)


# --- temperature -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "ok", "bad"),
    [
        ("gpt-4o-mini", [0, 1.3, 2], [2.01, -0.1]),
        ("gemini-2.5-flash", [0, 2], [2.5, -1]),
        ("claude-haiku-4-5", [0, 0.7, 1], [1.01, 1.5, 2]),
    ],
)
def test_temperature_is_checked_against_the_providers_range(model: str, ok: list[float], bad: list[float]) -> None:
    for value in ok:
        accepted(model=model, temperature=value)
    for value in bad:
        refused("temperature", "between 0 and", model=model, temperature=value)


# --- turn order ------------------------------------------------------------------------------


def turns(*roles: str) -> list[dict[str, str]]:
    return [{"role": r, "content": f"{r} 차례 {i}"} for i, r in enumerate(roles)]


def test_anthropic_refuses_a_conversation_that_starts_with_the_assistant() -> None:
    problem = parsed(model="claude-haiku-4-5", prompt=None, messages=turns("assistant", "user"))
    assert isinstance(problem, InputProblem) and problem.field == "messages[0]"
    assert "first message" in problem.reason


def test_anthropic_merges_consecutive_turns_so_they_are_taken() -> None:
    request = parsed(model="claude-haiku-4-5", prompt=None, messages=turns("user", "user", "assistant", "user"))
    assert isinstance(request, LLMRequest)


def test_a_last_assistant_turn_is_refused_only_by_the_models_without_prefill() -> None:
    convo = turns("user", "assistant")
    problem = parsed(model="claude-opus-4-6", prompt=None, messages=convo)
    assert isinstance(problem, InputProblem) and problem.field == "messages[1]" and "prefill" in problem.reason
    assert isinstance(parsed(model="claude-opus-4-5", prompt=None, messages=convo), LLMRequest)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gemini-2.5-flash"])
def test_openai_and_gemini_take_any_order(model: str) -> None:
    accepted(model=model, prompt=None, messages=turns("assistant", "user", "user", "assistant"))


# --- the pure check on requests built in code -------------------------------------------------


def test_refusals_lists_every_reason_in_field_order() -> None:
    from corthex.domain.admission import refusals  # imported here: the other tests also run on older code

    request = LLMRequest(
        custom_id="c",
        model="gpt-4o",
        provider=ProviderName.ANTHROPIC,
        messages=(Message("assistant", PROMPT),),
        max_output_tokens=10**6,
        temperature=1.5,
    )
    assert [r.field for r in refusals(request)] == ["provider", "temperature", "messages[0]"]
    fine = LLMRequest("d", "claude-haiku-4-5", ProviderName.ANTHROPIC, (Message("user", PROMPT),), temperature=1.0)
    assert refusals(fine) == []


def test_an_anthropic_temperature_in_range_is_taken_and_the_report_says_it_is_not_sent() -> None:
    """SDK 2.16's Messages API has no sampling parameters: the adapter leaves it out, and says so."""
    from corthex.domain.capabilities import request_warnings

    request = parsed(model="claude-haiku-4-5", temperature=0.5)
    assert isinstance(request, LLMRequest)
    [warning] = request_warnings(request)
    assert "'temperature' is not sent to claude-haiku-4-5" in warning
