"""Gemini carries the whole neutral request (issue 14): parts, tools, tool choice, tool turns,
thinking, top_p/stop/seed and provider options, in the file line and inline alike; tool calls
come back. Pure: no network (docs/wire/requests-gemini.md)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.genai import types

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.domain.results import FinishReason, ResultStatus
from corthex.providers.base import WireItem
from corthex.providers.gemini import from_response, generation_config, to_wire
from corthex.providers.wire.gemini import inline_size, to_file_line, wire_size

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode()
PDF = base64.b64encode(b"%PDF-1.4 \xea\xb0\x80\xeb\x82\x98 " * 8).decode()
WEATHER = {
    "name": "get_weather",
    "description": "도시의 날씨",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def parsed(**fields: Any) -> LLMRequest:
    line = {"custom_id": "g1", "model": "gemini-2.5-flash", "prompt": "안녕하세요", **fields}
    (request,) = parse_lines([orjson.dumps(line)])
    assert isinstance(request, LLMRequest), request
    return request


def line_of(request: LLMRequest) -> dict[str, Any]:
    return to_file_line(WireItem("w-1", request))["request"]


def test_parts_go_as_text_inline_data_and_file_data():
    request = parsed(
        prompt=None,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "이 사진과 문서를 요약해 주세요"},
                    {"type": "image", "data": PNG, "media_type": "image/png"},
                    {"type": "document", "url": "https://example.com/보고서.pdf"},
                ],
            }
        ],
    )
    parts = line_of(request)["contents"][0]["parts"]
    assert parts == [
        {"text": "이 사진과 문서를 요약해 주세요"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/보고서.pdf"}},
    ]
    inline = to_wire(WireItem("w-1", request))  # the SDK's types: bytes decoded, same parts
    sdk_parts = inline.contents[0].parts
    assert sdk_parts[1].inline_data.data == base64.b64decode(PNG)
    assert sdk_parts[2].file_data.mime_type == "application/pdf"
    assert wire_size(WireItem("w-1", request)) > len(PNG) and inline_size(WireItem("w-1", request)) > len(PNG)


def test_tools_choice_and_a_tool_round_trip_in_the_history():
    request = parsed(
        prompt=None,
        tools=[WEATHER, {"name": "now"}],
        tool_choice={"name": "get_weather"},
        messages=[
            {"role": "user", "content": "서울 날씨 알려줘"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "call_0", "name": "get_weather", "arguments": {"city": "서울"}},
                    {"id": "call_1", "name": "now", "arguments": {}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": "맑음"},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"time": "12:00"}'},
        ],
    )
    body = line_of(request)
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "get_weather", "description": "도시의 날씨", "parametersJsonSchema": WEATHER["parameters"]},
                {"name": "now"},  # no arguments: no parameters sent
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    model_turn, answers = body["contents"][1], body["contents"][2]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "서울"}}},
            {"functionCall": {"name": "now", "args": {}}},
        ],
    }
    assert answers == {  # both answers in one user turn, named after their calls
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "맑음"}}},
            {"functionResponse": {"name": "now", "response": {"time": "12:00"}}},
        ],
    }
    config = generation_config(request)
    assert config.tool_config.function_calling_config.mode == types.FunctionCallingConfigMode.ANY
    assert config.tools[0].function_declarations[0].parameters_json_schema == WEATHER["parameters"]


def test_tool_choice_modes():
    for choice, mode in (("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")):
        body = line_of(parsed(tools=[WEATHER], tool_choice=choice))
        assert body["toolConfig"] == {"functionCallingConfig": {"mode": mode}}


def test_thinking_budget_on_2_5_and_level_on_3_never_both():
    assert line_of(parsed(reasoning={"budget_tokens": 2048}))["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 2048
    }
    assert line_of(parsed(reasoning={"effort": "low"}))["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1024
    }
    three = parsed(model="gemini-3-flash-preview", reasoning={"effort": "minimal", "budget_tokens": 9000})
    assert line_of(three)["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "MINIMAL"}
    pro = parsed(model="gemini-3-pro-preview", reasoning={"budget_tokens": 4000})  # MEDIUM: 3 Pro takes LOW/HIGH
    assert line_of(pro)["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "HIGH"}
    assert generation_config(three).thinking_config.thinking_level == types.ThinkingLevel.MINIMAL


def test_sampling_settings_and_provider_options_merged_last():
    request = parsed(
        temperature=0.3,
        top_p=0.9,
        stop=["끝", "END"],
        seed=7,
        provider_options={
            "gemini": {
                "generationConfig": {"topK": 5},
                "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            },
            "openai": {"user": "x"},
        },
    )
    body = line_of(request)
    assert body["generationConfig"] == {
        "temperature": 0.3,
        "topP": 0.9,
        "stopSequences": ["끝", "END"],
        "seed": 7,
        "topK": 5,
    }
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    config = generation_config(request)
    assert (config.top_p, config.stop_sequences, config.seed, config.top_k) == (0.9, ["끝", "END"], 7, 5)
    assert config.safety_settings[0].threshold == types.HarmBlockThreshold.BLOCK_NONE


def _response(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": list(parts)}, "finishReason": "STOP"}]}


def test_function_calls_come_back_as_tool_calls_with_made_up_ids():
    result = from_response(
        "w-1",
        _response(
            {"functionCall": {"name": "get_weather", "args": {"city": "부산"}}},
            {"functionCall": {"id": "abc", "name": "now", "args": {}}},
        ),
    )
    assert result.status is ResultStatus.SUCCEEDED and result.finish_reason is FinishReason.TOOL_CALLS
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_0", "get_weather", {"city": "부산"}),
        ("abc", "now", {}),
    ]


def test_a_call_signature_is_kept_from_the_answer_and_sent_back_on_its_part():
    signature = base64.b64encode("서명".encode() + bytes(range(20))).decode()
    parts = [
        {"functionCall": {"name": "get_weather", "args": {"city": "서울"}}, "thoughtSignature": signature},
        {"functionCall": {"name": "get_weather", "args": {"city": "부산"}}},  # parallel: only the first is signed
    ]
    result = from_response(
        "w-1", {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}
    )
    first, second = result.tool_calls
    assert (first.signature, second.signature) == (signature, None)
    history = [
        {"role": "user", "content": "서울과 부산 날씨"},
        {"role": "assistant", "content": None, "tool_calls": [c.to_json() for c in result.tool_calls]},
        {"role": "tool", "tool_call_id": first.id, "content": "맑음"},
        {"role": "tool", "tool_call_id": second.id, "content": "비"},
    ]
    request = parsed(model="gemini-3-flash-preview", prompt=None, messages=history, tools=[WEATHER])
    sent = line_of(request)["contents"][1]["parts"]
    assert sent[0]["thoughtSignature"] == signature and "thoughtSignature" not in sent[1]
    inline = to_wire(WireItem("w-1", request))  # the SDK's Part takes the signature as bytes
    assert inline.contents[1].parts[0].thought_signature == base64.b64decode(signature)
    unsigned = parsed(model="gemini-3-flash", prompt=None, messages=[history[0]])
    assert inline_size(WireItem("w-1", request)) > inline_size(WireItem("w-1", unsigned))
