"""Finish reasons and reasoning tokens through each official SDK (issue 11 items 3, 4).

The emulator answers each `[[emulator:finish=KIND]]` prompt in its provider's real shape
(docs/wire/finish-reasons.md); each adapter must turn it into the right outcome: a text cut at
the budget succeeds as `length`; a budget spent thinking fails as `max_output_tokens`; safety
stops fail as `content_filter`; refusals as `refusal`. Every answered row keeps its usage.
"""

from __future__ import annotations

import pytest
from sdk_support import collect, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ProviderResult, ResultStatus
from corthex.providers import WireItem

F, S = FinishReason, ResultStatus
OK, FAILED = S.SUCCEEDED, S.FAILED
BUDGET = 300
QUESTION = "한국의 수도는 어디이며 그 역사를 길게 설명해 주세요 부탁드립니다 자세하게 모든 시대를 다루어"

MODELS = {
    ProviderName.OPENAI: "gpt-5-mini",
    ProviderName.ANTHROPIC: "claude-sonnet-4-6",
    ProviderName.GEMINI: "gemini-2.5-flash",
}

# kind -> provider -> (status, error type, finish reason)
EXPECTED = {
    "stop": {p: (OK, None, F.STOP) for p in MODELS},
    "cut": {p: (OK, None, F.LENGTH) for p in MODELS},
    "empty": {p: (FAILED, "max_output_tokens", F.LENGTH) for p in MODELS},
    "refusal": {
        ProviderName.OPENAI: (FAILED, "refusal", F.REFUSAL),
        ProviderName.ANTHROPIC: (FAILED, "refusal", F.REFUSAL),
        ProviderName.GEMINI: (OK, None, F.STOP),  # Gemini declines in plain text
    },
    "safety": {
        ProviderName.OPENAI: (FAILED, "content_filter", F.CONTENT_FILTER),
        ProviderName.ANTHROPIC: (FAILED, "refusal", F.REFUSAL),  # Claude's classifiers stop with refusal
        ProviderName.GEMINI: (FAILED, "content_filter", F.CONTENT_FILTER),
    },
    "blocked": {
        ProviderName.OPENAI: (FAILED, "content_filter", F.CONTENT_FILTER),
        ProviderName.ANTHROPIC: (FAILED, "refusal", F.REFUSAL),
        ProviderName.GEMINI: (FAILED, "content_filter", F.CONTENT_FILTER),  # promptFeedback.blockReason
    },
}


def request(provider: ProviderName, kind: str) -> LLMRequest:
    hook = "" if kind == "stop" else f" [[emulator:finish={kind}]]"
    return LLMRequest(
        f"q-{kind}",
        MODELS[provider],
        provider,
        (Message("user", QUESTION + hook),),
        max_output_tokens=BUDGET,
    )


def check(provider: ProviderName, kind: str, row: ProviderResult) -> None:
    status, error_type, finish = EXPECTED[kind][provider]
    assert (row.status, row.error.type if row.error else None, row.finish_reason) == (status, error_type, finish), kind
    assert row.usage is not None and row.usage.input_tokens > 0, f"{kind}: an answered row keeps its usage"
    if kind == "cut":
        assert row.content and "한국의 수도는" in row.content and "다루어" not in row.content
    if kind == "empty":
        assert not row.content and "raise max_output_tokens" in row.error.message
        assert row.usage.output_tokens == BUDGET == row.usage.reasoning_tokens


@pytest.fixture
def providers(openai_provider, anthropic_provider, gemini_provider):
    return {
        ProviderName.OPENAI: openai_provider,
        ProviderName.ANTHROPIC: anthropic_provider,
        ProviderName.GEMINI: gemini_provider,
    }


@pytest.mark.parametrize("provider", list(MODELS))
async def test_batch_results_carry_finish_reasons(providers, provider):
    adapter = providers[provider]
    batch = [WireItem(f"w-{kind}", request(provider, kind)) for kind in EXPECTED]
    ref = await adapter.submit(f"finish-{provider}", MODELS[provider], batch)
    assert (await wait_ended(adapter, ref)).state is RemoteState.ENDED
    rows = await collect(adapter, ref)
    for kind in EXPECTED:
        check(provider, kind, rows[f"w-{kind}"])


@pytest.mark.parametrize("kind", ["empty", "cut", "refusal", "safety"])
@pytest.mark.parametrize("provider", list(MODELS))
async def test_realtime_answers_carry_finish_reasons(providers, provider, kind):
    row = await providers[provider].complete(request(provider, kind))
    check(provider, kind, row)


@pytest.mark.parametrize("provider", [ProviderName.OPENAI, ProviderName.GEMINI])
async def test_thinking_models_report_reasoning_tokens_inside_output(providers, provider):
    """gpt-5* and gemini-2.5* always think: the reasoning is reported and billed as output
    (OpenAI inside completion_tokens; Gemini's thoughtsTokenCount added to candidatesTokenCount)."""
    row = await providers[provider].complete(request(provider, "stop"))
    assert row.status is OK and row.content
    assert 0 < row.usage.reasoning_tokens < row.usage.output_tokens <= BUDGET


async def test_claude_with_thinking_reports_thinking_tokens(anthropic_client):
    """Claude counts thinking inside output_tokens; SDK 2.16 breaks it out in output_tokens_details."""
    from corthex.providers.anthropic import from_message

    message = await anthropic_client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=BUDGET,
        thinking={"type": "adaptive"},
        messages=[{"role": "user", "content": QUESTION}],
    )
    assert message.content[0].type == "thinking"
    row = from_message("m", message.to_dict(mode="json"))
    assert row.status is OK and row.content and row.finish_reason is F.STOP
    assert 0 < row.usage.reasoning_tokens < row.usage.output_tokens
