"""The request line beyond text (issue 14): parts, tools, reasoning and the common settings are
parsed into one neutral form, kept in the store as is, and refused with the field named."""

from __future__ import annotations

import base64

import orjson
import pytest

from corthex.domain.content import Effort, PartType, ToolMode
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode()
PDF = base64.b64encode("%PDF-1.7 견적서".encode()).decode()

WIDE = {
    "custom_id": "리뷰-1",
    "model": "gpt-5-mini",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "이 사진과 견적서를 비교해 주세요"},
                {"type": "image", "data": PNG, "media_type": "image/png"},
                {"type": "image", "url": "https://example.com/cat.jpg"},
                {"type": "document", "data": PDF, "media_type": "application/pdf", "cache": True},
            ],
        },
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "환율", "arguments": {}}]},
    ],
    "tools": [{"name": "lookup_rate", "description": "환율 조회", "parameters": {"type": "object"}}],
    "tool_choice": {"name": "lookup_rate"},
    "reasoning": {"effort": "low"},
    "top_p": 0.9,
    "stop": "끝",
    "seed": 7,
    "provider_options": {"openai": {"service_tier": "flex"}},
    "metadata": {"팀": "리서치"},
}


def parse(line: dict[str, object]) -> LLMRequest | InputProblem:
    [parsed] = parse_lines([orjson.dumps(line).decode()])
    return parsed


def problem(line: dict[str, object]) -> InputProblem:
    parsed = parse(line)
    assert isinstance(parsed, InputProblem), parsed
    return parsed


def test_a_wide_line_is_refused_for_a_tool_name_outside_the_shared_rule() -> None:
    # "환율" is not [a-zA-Z0-9_-]: every provider would refuse the call in the history
    found = problem(WIDE)
    assert found.field == "messages[1].tool_calls[0].name"


def test_a_wide_line_parses_into_the_neutral_form_and_survives_the_store() -> None:
    line = {**WIDE, "messages": [WIDE["messages"][0]]}  # type: ignore[index]
    request = parse(line)
    assert isinstance(request, LLMRequest)
    [message] = request.messages
    assert [p.type for p in message.parts] == [PartType.TEXT, PartType.IMAGE, PartType.IMAGE, PartType.DOCUMENT]
    assert message.text == "이 사진과 견적서를 비교해 주세요" and message.parts[3].cache
    assert request.tool_choice is not None and request.tool_choice.mode is ToolMode.TOOL
    assert request.reasoning is not None and request.reasoning.effort is Effort.LOW
    assert (request.top_p, request.stop, request.seed) == (0.9, ("끝",), 7)
    assert LLMRequest.from_dict(orjson.loads(orjson.dumps(request.to_dict()))) == request


def test_a_tool_conversation_round_trips() -> None:
    line = {
        "custom_id": "t",
        "model": "claude-haiku-4-5",
        "tools": [
            {"name": "lookup_rate", "parameters": {"type": "object", "properties": {"통화": {"type": "string"}}}}
        ],
        "messages": [
            {"role": "user", "content": "원달러 환율은?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "name": "lookup_rate", "arguments": {"통화": "USD"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "1,380원"},
        ],
    }
    request = parse(line)
    assert isinstance(request, LLMRequest)
    assert request.messages[1].tool_calls[0].arguments == {"통화": "USD"}
    assert request.messages[2].tool_call_id == "c1"
    assert LLMRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image", "data": "@@not base64@@", "media_type": "image/png"}],
                    }
                ]
            },
            "messages[0].content[0].data",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "data": PNG}]}]},
            "messages[0].content[0].media_type",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "url": "ftp://x/y.png"}]}]},
            "messages[0].content[0].url",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "video", "url": "https://x/y.mp4"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "document", "data": PDF, "media_type": "application/zip"}]}
                ]
            },
            "messages[0].content[0].media_type",
        ),
        ({"messages": [{"role": "tool", "content": "1,380원"}]}, "messages[0].tool_call_id"),
        ({"tools": [{"name": "a"}, {"name": "a"}]}, "tools"),
        ({"tools": [{"name": "a", "parameters": {"type": "string"}}]}, "tools[0].parameters"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [{"name": "a"}], "tool_choice": {"name": "b"}}, "tool_choice"),
        ({"reasoning": {"effort": "maximal"}}, "reasoning.effort"),
        ({"top_p": 1.5}, "top_p"),
        ({"stop": ["", "x"]}, "stop"),
        ({"seed": 1.5}, "seed"),
        ({"provider_options": {"nosuchcloud": {}}}, "provider_options.nosuchcloud"),  # azure is a provider now
    ],
)
def test_each_mistake_names_its_field(change: dict[str, object], field: str) -> None:
    base = {"custom_id": "x", "model": "gpt-5-mini", "prompt": "안녕하세요"}
    line = {**base, **change}
    if "messages" in change:
        del line["prompt"]
    assert problem(line).field == field
