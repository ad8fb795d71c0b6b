"""The finish-reason tables and the outcome of an answered row (domain/finish.py)."""

from __future__ import annotations

import typing

import pytest
from anthropic.types import StopReason
from google.genai import types as genai_types
from openai.types.chat.chat_completion import Choice

from corthex.domain.finish import (
    ANTHROPIC_STOP,
    GEMINI_BLOCK,
    GEMINI_FINISH,
    OPENAI_FINISH,
    finish_from,
    model_answer,
)
from corthex.domain.results import FinishReason, ResultStatus, Usage

F = FinishReason


def test_openai_table_covers_every_sdk_finish_reason():
    values = typing.get_args(Choice.model_fields["finish_reason"].annotation)
    assert set(values) == set(OPENAI_FINISH)


def test_anthropic_table_covers_every_sdk_stop_reason():
    assert set(typing.get_args(StopReason)) == set(ANTHROPIC_STOP)


def test_gemini_tables_cover_every_sdk_enum_member():
    assert {m.value for m in genai_types.FinishReason} == set(GEMINI_FINISH)
    assert {m.value for m in genai_types.BlockedReason} == set(GEMINI_BLOCK)


@pytest.mark.parametrize(
    ("table", "raw", "expected"),
    [
        (OPENAI_FINISH, "length", F.LENGTH),
        (OPENAI_FINISH, "content_filter", F.CONTENT_FILTER),
        (ANTHROPIC_STOP, "max_tokens", F.LENGTH),
        (ANTHROPIC_STOP, "model_context_window_exceeded", F.LENGTH),
        (ANTHROPIC_STOP, "refusal", F.REFUSAL),
        (ANTHROPIC_STOP, "pause_turn", F.OTHER),
        (GEMINI_FINISH, "MAX_TOKENS", F.LENGTH),
        (GEMINI_FINISH, "SAFETY", F.CONTENT_FILTER),
        (GEMINI_FINISH, "RECITATION", F.CONTENT_FILTER),
        (GEMINI_FINISH, "PROHIBITED_CONTENT", F.CONTENT_FILTER),
        (GEMINI_FINISH, "BLOCKLIST", F.CONTENT_FILTER),
        (GEMINI_FINISH, "SPII", F.CONTENT_FILTER),
        (GEMINI_FINISH, "MALFORMED_FUNCTION_CALL", F.OTHER),
        (GEMINI_FINISH, "A_NEW_REASON", F.OTHER),
        (GEMINI_FINISH, None, None),
    ],
)
def test_finish_from(table, raw, expected):
    assert finish_from(table, raw) is expected


USAGE = Usage(input_tokens=10, output_tokens=512, reasoning_tokens=512)


def answer(text, finish, refusal=None):
    return model_answer("w", text=text, finish=finish, usage=USAGE, model="m", raw_reason="raw", refusal=refusal)


def test_cut_answer_with_text_succeeds_as_length():
    row = answer("부분 답", F.LENGTH)
    assert row.status is ResultStatus.SUCCEEDED and row.content == "부분 답" and row.finish_reason is F.LENGTH


def test_budget_spent_thinking_fails_and_says_raise_max_output_tokens():
    row = answer("", F.LENGTH)
    assert row.status is ResultStatus.FAILED and row.finish_reason is F.LENGTH
    assert row.error.type == "max_output_tokens" and "raise max_output_tokens" in row.error.message
    assert "512 on reasoning" in row.error.message and not row.retryable
    assert row.usage == USAGE  # billed all the same


def test_safety_stop_fails_as_content_filter_even_with_text():
    row = answer("시작했지만", F.CONTENT_FILTER)
    assert row.status is ResultStatus.FAILED and row.error.type == "content_filter" and not row.retryable


def test_refusal_by_reason_or_by_text():
    assert answer("", F.REFUSAL).error.type == "refusal"
    row = answer(None, F.STOP, refusal="I can't help with that.")
    assert row.status is ResultStatus.FAILED and row.finish_reason is F.REFUSAL
    assert row.error.message == "I can't help with that."


def test_other_stop_without_text_is_retryable_and_with_text_succeeds():
    assert answer("", F.OTHER).error.type == "no_answer" and answer("", F.OTHER).retryable
    assert answer("ok", F.OTHER).status is ResultStatus.SUCCEEDED


def test_a_natural_stop_succeeds_even_empty():
    row = answer("", F.STOP)
    assert row.status is ResultStatus.SUCCEEDED and row.content == "" and row.finish_reason is F.STOP
