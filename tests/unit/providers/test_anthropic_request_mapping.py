"""The whole neutral request in Anthropic's form (issue 14; docs/wire/requests-anthropic.md), pure."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import get_type_hints

from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from corthex.domain.content import Effort, Part, PartType, Reasoning, ToolCall, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.providers.anthropic import from_wire
from corthex.providers.base import WireItem
from corthex.providers.wire.anthropic import CACHE_CONTROL, params, wire_size

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
PDF = base64.b64encode(b"%PDF-1.4 \xec\x9a\x94\xec\x95\xbd").decode()
WEATHER = ToolSpec(
    "get_weather",
    "도시의 날씨",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def request(*messages: Message, model: str = "claude-sonnet-4-6", **kw) -> LLMRequest:
    turns = messages or (Message("user", "안녕"),)
    return LLMRequest("q1", model, ProviderName.ANTHROPIC, turns, **kw)


def test_parts_become_text_image_and_document_blocks_with_the_cache_marker():
    parts = (
        Part(PartType.TEXT, text="이 사진과 계약서를 비교하라"),
        Part(PartType.IMAGE, data=PNG, media_type="image/png"),
        Part(PartType.IMAGE, url="https://example.com/사진.jpg"),
        Part(PartType.DOCUMENT, data=PDF, media_type="application/pdf", cache=True),
        Part(PartType.DOCUMENT, url="https://example.com/계약서.pdf"),
        Part(PartType.DOCUMENT, data=base64.b64encode("메모 본문".encode()).decode(), media_type="text/plain"),
    )
    content = params(request(Message("user", "", parts)))["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "이 사진과 계약서를 비교하라"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/사진.jpg"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
            "cache_control": CACHE_CONTROL,
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/계약서.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "메모 본문"}},
    ]


def test_wire_size_counts_the_parts_as_sent():
    text_only = WireItem("w1", request(Message("user", "사진을 보라")))
    with_image = WireItem("w1", request(Message("user", "", (Part(PartType.IMAGE, data=PNG, media_type="image/png"),))))
    assert wire_size(with_image) - wire_size(text_only) >= len(PNG)


def test_tools_and_each_tool_choice():
    body = params(request(tools=(WEATHER,), tool_choice=ToolChoice(ToolMode.AUTO)))
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "도시의 날씨",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    choices = {
        ToolChoice(ToolMode.AUTO): {"type": "auto"},
        ToolChoice(ToolMode.NONE): {"type": "none"},
        ToolChoice(ToolMode.REQUIRED): {"type": "any"},
        ToolChoice(ToolMode.TOOL, "get_weather"): {"type": "tool", "name": "get_weather"},
    }
    for choice, wire in choices.items():
        assert params(request(tools=(WEATHER,), tool_choice=choice))["tool_choice"] == wire


def test_tool_turns_become_tool_use_and_one_merged_user_turn_of_tool_results():
    calls = (ToolCall("toolu_1", "get_weather", {"city": "서울"}), ToolCall("toolu_2", "get_weather", {"city": "부산"}))
    turns = (
        Message("user", "서울과 부산 날씨는?"),
        Message("assistant", "찾아볼게요", tool_calls=calls),
        Message("tool", "맑음", tool_call_id="toolu_1"),
        Message("tool", "비", tool_call_id="toolu_2"),
    )
    wire = params(request(*turns, tools=(WEATHER,)))["messages"]
    assert wire[1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "찾아볼게요"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "서울"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "부산"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "맑음"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "비"},
            ],
        },
    ]


def test_budget_tokens_is_manual_thinking_and_max_tokens_leaves_room_for_the_answer():
    body = params(request(reasoning=Reasoning(budget_tokens=30_000)), realtime=True)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 30_000}
    assert body["max_tokens"] > 30_000  # the realtime default (21,333) would be under the budget
    capped = params(request(reasoning=Reasoning(budget_tokens=2_000), max_output_tokens=5_000))
    assert capped["max_tokens"] == 5_000


def test_effort_is_adaptive_thinking_on_46_models_and_a_budget_on_older_ones():
    adaptive = params(request(reasoning=Reasoning(effort=Effort.MINIMAL)))
    assert adaptive["thinking"] == {"type": "adaptive"}
    assert adaptive["output_config"] == {"effort": "low"}  # Anthropic has no "minimal"
    older = params(request(model="claude-sonnet-4-5", reasoning=Reasoning(effort=Effort.HIGH)))
    assert older["thinking"] == {"type": "enabled", "budget_tokens": 16_384} and "output_config" not in older


def test_stop_is_stop_sequences_and_provider_options_go_in_last_but_never_the_model():
    options = {"anthropic": {"metadata": {"user_id": "사용자-7"}, "model": "claude-opus-4-6", "max_tokens": 77}}
    body = params(request(stop=("끝",), provider_options=options | {"openai": {"seed": 1}}))
    assert body["stop_sequences"] == ["끝"]
    assert body["metadata"] == {"user_id": "사용자-7"} and body["max_tokens"] == 77
    assert body["model"] == "claude-sonnet-4-6" and "seed" not in body


def test_every_mapped_field_is_a_field_of_the_sdk_request_type():
    turns = (
        Message("user", "", (Part(PartType.IMAGE, url="https://example.com/a.png"),)),
        Message("assistant", "", tool_calls=(ToolCall("toolu_1", "get_weather", {}),)),
        Message("tool", "맑음", tool_call_id="toolu_1"),
    )
    body = params(
        request(
            *turns,
            tools=(WEATHER,),
            tool_choice=ToolChoice(ToolMode.AUTO),
            reasoning=Reasoning(Effort.HIGH),
            stop=("끝",),
        )
    )
    assert set(body) <= set(get_type_hints(MessageCreateParamsNonStreaming))


def test_tool_use_blocks_come_back_as_tool_calls_and_succeed_without_text():
    message = {
        "model": "claude-sonnet-4-6",
        "stop_reason": "tool_use",
        "content": [
            {"type": "thinking", "thinking": "생각", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "서울"}},
        ],
        "usage": {"input_tokens": 5, "output_tokens": 7},
    }
    result = from_wire({"custom_id": "w1", "result": {"type": "succeeded", "message": message}})
    assert result.status.value == "succeeded" and result.finish_reason.value == "tool_calls"
    assert [c.to_json() for c in result.tool_calls] == [
        {"id": "toolu_9", "name": "get_weather", "arguments": {"city": "서울"}}
    ]
    assert result.content == ""  # the thinking block carries no answer text


def test_a_cached_tool_carries_cache_control_and_other_providers_send_the_bare_function():
    from corthex.providers.wire.openai import chat_body, responses_body

    cached = ToolSpec("get_weather", "도시의 날씨", {"type": "object", "properties": {}}, cache=True)
    plain = ToolSpec("get_time", None)
    anthropic = request(Message("user", "서울 날씨"), tools=(plain, cached))
    tools = params(anthropic)["tools"]
    assert "cache_control" not in tools[0] and tools[1]["cache_control"] == CACHE_CONTROL
    assert tools[1]["name"] == "get_weather" and tools[1]["input_schema"] == {"type": "object", "properties": {}}
    openai = replace(anthropic, model="gpt-5-mini", provider=ProviderName.OPENAI)
    assert all("cache" not in t["function"] for t in chat_body(openai)["tools"])
    assert all("cache" not in t for t in responses_body(openai)["tools"])
    assert LLMRequest.from_dict(anthropic.to_dict()).tools == (plain, cached)  # the store keeps the marker
