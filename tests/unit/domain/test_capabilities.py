"""The capability table: one place that says which endpoint, temperature and output budget a model has."""

from __future__ import annotations

import pytest

from corthex.domain.capabilities import (
    OpenAIEndpoint,
    capabilities,
    family_name,
    openai_endpoint,
    request_warnings,
)
from corthex.domain.requests import LLMRequest, Message, ProviderName

OPENAI, ANTHROPIC = ProviderName.OPENAI, ProviderName.ANTHROPIC


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-5.2-pro-2025-12-11", "gpt-5.x-pro"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ],
)
def test_family_name_drops_dates_and_folds_point_releases(model, family):
    assert family_name(model) == family


@pytest.mark.parametrize(
    "model", ["o1-pro", "o1-pro-2025-03-19", "o3-pro", "gpt-5-pro", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5-codex"]
)
def test_pro_models_answer_only_on_responses(model):
    assert openai_endpoint(model) is OpenAIEndpoint.RESPONSES


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "o1", "o3", "o3-mini", "gpt-5-mini", "gpt-5.1", "gpt-x"])
def test_other_models_use_chat_completions(model):
    assert openai_endpoint(model) is OpenAIEndpoint.CHAT


@pytest.mark.parametrize(
    ("model", "takes"),
    [
        ("gpt-4o", True),
        ("gpt-5-chat-latest", True),
        ("gpt-5.1", True),  # default effort "none"
        ("gpt-5.2-2025-12-11", True),
        ("gpt-5", False),
        ("gpt-5-nano", False),
        ("o3-mini", False),
        ("o1-pro", False),
        ("gpt-5.2-pro", False),
        ("gpt-5.1-chat-latest", False),
        ("o3x-new", True),  # a family matches whole parts only: unknown, taken as a chat model
    ],
)
def test_temperature_by_model(model, takes):
    assert capabilities(OPENAI, model).accepts_temperature is takes


@pytest.mark.parametrize(
    ("model", "tokens"),
    [
        ("claude-sonnet-4-5-20250929", 64_000),
        ("claude-sonnet-4-6", 128_000),
        ("claude-opus-4-1", 32_000),
        ("claude-haiku-4-5-20251001", 64_000),
        ("claude-3-5-haiku-20241022", 8_192),
        ("claude-someday-9", 8_192),  # unknown: a cautious figure every current model takes
    ],
)
def test_anthropic_max_output(model, tokens):
    assert capabilities(ANTHROPIC, model).max_output_tokens == tokens


def test_a_refused_temperature_warns_naming_field_and_model():
    request = LLMRequest("q", "o3", OPENAI, (Message("user", "hi"),), temperature=0.2)
    (warning,) = request_warnings(request)
    assert "'temperature'" in warning and "o3" in warning
    assert request_warnings(LLMRequest("q", "gpt-4o", OPENAI, (Message("user", "hi"),), temperature=0.2)) == []
    assert request_warnings(LLMRequest("q", "o3", OPENAI, (Message("user", "hi"),))) == []
