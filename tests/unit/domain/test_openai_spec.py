"""Native OpenAI bodies checked against the official OpenAPI spec's request schemas (issue 14,
"Native batch lines"), and the reality check: every body our own mapping builds fits the spec."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson
import pytest

from corthex.domain.native import OPENAI_BATCH_URLS
from corthex.domain.openai_spec import MAX_REASON, body_problem, spec_data, spec_version
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem
from corthex.providers.wire.openai import chat_body, embeddings_body, responses_body

CHAT = "/v1/chat/completions"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode()
PDF = base64.b64encode("%PDF-1.7 견적서".encode()).decode()
KOREAN_CHAT = {
    "model": "gpt-5-mini",
    "messages": [
        {"role": "developer", "content": "한국어로 짧게 답하세요"},
        {"role": "user", "content": [{"type": "text", "text": "서울의 인구는?"}]},
    ],
    "max_completion_tokens": 256,
    "metadata": {"부서": "기획"},
}


def test_the_extract_covers_every_batch_url_and_records_the_spec_version():
    data = spec_data()
    assert set(data["urls"]) == OPENAI_BATCH_URLS
    assert data["urls"][CHAT] == "CreateChatCompletionRequest"
    assert data["urls"]["/v1/responses"] == "CreateResponse"
    assert spec_version() == data["info"]["version"] and len(data["info"]["sha256"]) == 64


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (CHAT, KOREAN_CHAT),
        (CHAT, {**KOREAN_CHAT, "temperature": None, "seed": None, "stop": None}),  # `nullable`: null is allowed
        ("/v1/responses", {"model": "gpt-5-mini", "input": "부산의 인구는?", "reasoning": {"effort": "low"}}),
        (
            "/v1/responses",
            {"model": "o3-pro", "input": [{"role": "user", "content": [{"type": "input_text", "text": "안녕"}]}]},
        ),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["가나다", "라마바"], "dimensions": 256}),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "옛날 옛적에"}),
        ("/v1/moderations", {"model": "omni-moderation-latest", "input": "괜찮은 문장"}),
    ],
)
def test_valid_bodies_fit(url: str, body: dict[str, Any]):
    assert body_problem(url, body) is None


@pytest.mark.parametrize(
    ("url", "body", "field", "reason"),
    [
        (
            CHAT,
            {"model": "gpt-5-mini", "messages": [{"role": "bot", "content": "안녕"}]},
            "body.messages[0].role",
            "'bot' is not one of ['developer', 'system', 'user', 'assistant', 'tool', 'function']",
        ),
        (CHAT, {"model": "gpt-5-mini"}, "body.messages", "'messages' is required"),
        (CHAT, {"model": "gpt-5-mini", "messages": "안녕"}, "body.messages", "'안녕' is not of type 'array'"),
        (
            CHAT,
            {**KOREAN_CHAT, "temperature": "뜨겁게"},
            "body.temperature",
            "'뜨겁게' is not of type 'number' or 'null'",
        ),
        (
            CHAT,
            {
                "model": "gpt-5-mini",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            "body.messages[0].content[0].image_url.url",
            "'url' is required",
        ),
        (
            CHAT,
            {"model": "gpt-5-mini", "messages": [{"role": "user", "content": [{"type": "image", "text": "x"}]}]},
            "body.messages[0].content[0].type",
            "'image' is not one of ['text', 'image_url', 'input_audio', 'file']",
        ),
        (
            CHAT,
            {"model": "gpt-5-mini", "messages": [{"role": "tool", "content": "맑음"}]},
            "body.messages[0].tool_call_id",
            "'tool_call_id' is required",
        ),
        ("/v1/responses", {"model": "gpt-5-mini", "input": 5}, "body.input", "5 is not of type 'string' or 'array'"),
        (
            "/v1/responses",
            {
                "model": "o3",
                "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x"}]}],
            },
            "body.input[0].content[0].detail",
            "'detail' is required",
        ),
        (
            "/v1/responses",
            {"model": "o3", "input": [{"role": "로봇", "content": "안녕"}]},
            "body.input[0].role",
            "'로봇' is not one of ['user', 'system', 'developer', 'assistant']",
        ),
        (
            "/v1/responses",
            {"model": "o3", "input": [{"type": "function_call", "name": "f", "call_id": "c1"}]},
            "body.input[0].arguments",
            "'arguments' is required",
        ),
        (
            "/v1/responses",
            {"model": "o3", "input": "안녕", "max_output_tokens": 10},
            "body.max_output_tokens",
            "10 is less than the minimum of 16",
        ),
        ("/v1/embeddings", {"model": "text-embedding-3-small"}, "body.input", "'input' is required"),
    ],
)
def test_an_invalid_body_names_the_most_specific_field(url: str, body: dict[str, Any], field: str, reason: str):
    problem = body_problem(url, body)
    assert problem is not None and (problem.field, problem.reason) == (field, reason)


def test_a_long_enum_is_cut_and_the_reason_stays_one_short_line():
    problem = body_problem(CHAT, {**KOREAN_CHAT, "reasoning_effort": "최대"})
    assert problem is not None
    field, reason = problem.field, problem.reason
    assert (
        field == "body.reasoning_effort" and "'최대' is not one of ['none', 'minimal'" in reason and "more]" in reason
    )
    long = getattr(body_problem(CHAT, {**KOREAN_CHAT, "messages": "긴\n" * 500}), "reason", "")
    assert "\n" not in long and len(long) <= MAX_REASON


def test_native_lines_are_refused_at_intake_with_the_line_and_the_field():
    good = {"custom_id": "a", "method": "POST", "url": CHAT, "body": KOREAN_CHAT}
    bad = {**good, "custom_id": "b", "body": {**KOREAN_CHAT, "messages": [{"role": "bot", "content": "안녕"}]}}
    parsed = list(parse_lines([orjson.dumps(good), orjson.dumps(bad)]))
    assert isinstance(parsed[0], LLMRequest) and parsed[0].native is not None
    assert isinstance(parsed[1], InputProblem)
    assert (parsed[1].line, parsed[1].field) == (2, "body.messages[0].role")
    assert parsed[1].reason.startswith("'bot' is not one of ['developer'")


def test_validating_ten_thousand_chat_bodies_is_fast():
    bodies = [{**KOREAN_CHAT, "seed": i} for i in range(10_000)]
    body_problem(CHAT, KOREAN_CHAT)  # the validator compiled once, outside the timing
    started = time.perf_counter()
    assert all(body_problem(CHAT, body) is None for body in bodies)
    elapsed = time.perf_counter() - started
    print(f"10,000 chat bodies validated in {elapsed:.2f} s")
    assert elapsed < 30  # 3.8-5.8 s on the shared 2-core box under load: a bound for a regression, not a target


# --- the reality check: what our own mapping sends fits the spec ------------------------------

TOOL = {
    "name": "lookup_rate",
    "description": "환율 조회",
    "parameters": {"type": "object", "properties": {"통화": {"type": "string"}}, "required": ["통화"]},
}
LABEL = {"type": "object", "properties": {"label": {"type": "string", "enum": ["긍정", "부정"]}}, "required": ["label"]}
PARTS = [
    {"type": "text", "text": "이 사진과 견적서를 비교해 주세요"},
    {"type": "image", "data": PNG, "media_type": "image/png"},
    {"type": "image", "url": "https://example.com/고양이.jpg"},
    {"type": "document", "data": PDF, "media_type": "application/pdf", "cache": True},
]
TOOL_TURNS = [
    {"role": "user", "content": "원화 환율을 알려줘"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "call_1", "name": "lookup_rate", "arguments": {"통화": "KRW"}}],
    },
    {"role": "tool", "content": "1달러 = 1,380원", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "1달러에 1,380원입니다."},
    {"role": "user", "content": "고마워요"},
]
#: neutral lines covering every field the OpenAI mapping sends (both endpoints get each line)
NEUTRAL: dict[str, dict[str, Any]] = {
    "text": {
        "model": "gpt-4o-mini",
        "prompt": "서울의 인구는?",
        "system": "짧게",
        "max_output_tokens": 64,
        "temperature": 0.2,
    },
    "parts": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PARTS}]},
    "tools_auto": {"model": "gpt-4o-mini", "prompt": "환율?", "tools": [TOOL], "tool_choice": "auto"},
    "tools_none": {"model": "gpt-4o-mini", "prompt": "환율?", "tools": [TOOL], "tool_choice": "none"},
    "tools_required": {"model": "gpt-4o-mini", "prompt": "환율?", "tools": [TOOL], "tool_choice": "required"},
    "tools_named": {"model": "gpt-4o-mini", "prompt": "환율?", "tools": [TOOL], "tool_choice": {"name": "lookup_rate"}},
    "tool_turns": {"model": "gpt-4o-mini", "messages": TOOL_TURNS, "tools": [TOOL]},
    "reasoning_effort": {"model": "gpt-5-mini", "prompt": "증명해 줘", "reasoning": {"effort": "high"}},
    "reasoning_budget": {"model": "gpt-5.1", "prompt": "증명해 줘", "reasoning": {"budget_tokens": 0}},
    "sampling": {"model": "gpt-4o-mini", "prompt": "시 한 편", "top_p": 0.9, "stop": ["끝", "END"], "seed": 7},
    "schema": {"model": "gpt-4o-mini", "prompt": "이 리뷰는?", "json_schema": LABEL},
    "options": {"model": "gpt-4o-mini", "prompt": "안녕", "provider_options": {"openai": {"service_tier": "flex"}}},
}
EMBEDDINGS = {
    "one": {"model": "text-embedding-3-small", "input": "서울 특별시", "dimensions": 256},
    "list": {"model": "text-embedding-3-large", "input": ["서울", "부산"]},
}


def _intake(line: dict[str, Any]) -> LLMRequest:
    (parsed,) = parse_lines([orjson.dumps({"custom_id": "리뷰-1", **line})])
    assert isinstance(parsed, LLMRequest), parsed
    return parsed


@pytest.mark.parametrize("name", sorted(NEUTRAL))
def test_every_chat_body_we_build_fits_the_spec(name: str):
    body = chat_body(_intake(NEUTRAL[name]))
    assert body_problem(CHAT, body) is None, body


@pytest.mark.parametrize("name", sorted(NEUTRAL))
def test_every_responses_body_we_build_fits_the_spec(name: str):
    line = {k: v for k, v in NEUTRAL[name].items() if k not in ("stop", "seed")}  # refused there at intake
    body = responses_body(_intake(line))
    assert body_problem("/v1/responses", body) is None, body


def test_a_responses_document_by_url_fits_the_spec():
    parts = [*PARTS, {"type": "document", "url": "https://example.com/보고서.pdf"}]
    body = responses_body(_intake({"model": "o3-pro", "messages": [{"role": "user", "content": parts}]}))
    assert body_problem("/v1/responses", body) is None


@pytest.mark.parametrize("name", sorted(EMBEDDINGS))
def test_every_embeddings_body_we_build_fits_the_spec(name: str):
    assert body_problem("/v1/embeddings", embeddings_body(_intake(EMBEDDINGS[name]))) is None
