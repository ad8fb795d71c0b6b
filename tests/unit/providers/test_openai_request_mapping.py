"""The whole neutral request on OpenAI's two line shapes (issue 14), pure: parts, tools, tool turns,
reasoning, sampling and provider options mapped; tool calls read back from both answer shapes."""

from __future__ import annotations

import base64

import pytest

from corthex.domain.content import Effort, Part, PartType, Reasoning, ToolCall, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ResultStatus
from corthex.providers.base import WireItem
from corthex.providers.openai import from_completion, from_response, from_wire
from corthex.providers.wire.openai import chat_body, reasoning_effort, responses_body, wire_size

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
PDF = base64.b64encode(b"%PDF-1.4 \xea\xb2\xac\xec\xa0\x81\xec\x84\x9c").decode()
WEATHER = ToolSpec(
    "get_weather",
    "도시의 날씨",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
PARTS = (
    Part(PartType.TEXT, text="이 사진과 견적서를 비교해 주세요"),
    Part(PartType.IMAGE, data=PNG, media_type="image/png"),
    Part(PartType.IMAGE, url="https://example.com/고양이.jpg"),
    Part(PartType.DOCUMENT, data=PDF, media_type="application/pdf", cache=True),
)
HISTORY = (
    Message("user", "서울 날씨를 get_weather로 알려줘"),
    Message("assistant", "", tool_calls=(ToolCall("call_1", "get_weather", {"city": "서울"}),)),
    Message("tool", "맑음, 21도", tool_call_id="call_1"),
)


def request(model: str = "gpt-4o-mini", messages: tuple[Message, ...] = (), **kw) -> LLMRequest:
    return LLMRequest("q1", model, ProviderName.OPENAI, messages or (Message("user", "안녕"),), **kw)


def test_chat_parts_are_text_image_url_and_a_pdf_as_file_data():
    body = chat_body(request(messages=(Message("user", "", PARTS),)))
    text, data_image, url_image, document = body["messages"][0]["content"]
    assert text == {"type": "text", "text": "이 사진과 견적서를 비교해 주세요"}
    assert data_image == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    assert url_image == {"type": "image_url", "image_url": {"url": "https://example.com/고양이.jpg"}}
    assert document == {
        "type": "file",
        "file": {"filename": "document-4.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
    }


def test_responses_parts_are_input_text_image_and_file_with_a_file_url():
    parts = (*PARTS, Part(PartType.DOCUMENT, url="https://example.com/보고서.pdf"))
    body = responses_body(request("o3-pro", messages=(Message("user", "", parts),)))
    text, data_image, url_image, document, linked = body["input"][0]["content"]
    assert text == {"type": "input_text", "text": "이 사진과 견적서를 비교해 주세요"}
    assert data_image == {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"}
    assert url_image["image_url"] == "https://example.com/고양이.jpg"
    assert document == {
        "type": "input_file",
        "filename": "document-4.pdf",
        "file_data": f"data:application/pdf;base64,{PDF}",
    }
    assert linked == {"type": "input_file", "file_url": "https://example.com/보고서.pdf"}


def test_the_wire_size_counts_the_parts_as_sent():
    plain = wire_size(WireItem("w", request(messages=(Message("user", "이 사진과 견적서를 비교해 주세요"),))))
    wide = wire_size(WireItem("w", request(messages=(Message("user", "", PARTS),))))
    assert wide - plain > len(PNG) + len(PDF)  # both base64 payloads, and their data-URL prefixes


@pytest.mark.parametrize(
    ("choice", "chat", "responses"),
    [
        (ToolChoice(ToolMode.AUTO), "auto", "auto"),
        (ToolChoice(ToolMode.NONE), "none", "none"),
        (ToolChoice(ToolMode.REQUIRED), "required", "required"),
        (
            ToolChoice(ToolMode.TOOL, "get_weather"),
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "name": "get_weather"},
        ),
    ],
)
def test_tools_and_tool_choice_in_both_shapes(choice, chat, responses):
    chat_form = chat_body(request(tools=(WEATHER,), tool_choice=choice))
    assert chat_form["tools"] == [{"type": "function", "function": WEATHER.to_json()}]
    assert chat_form["tool_choice"] == chat
    responses_form = responses_body(request("o3-pro", tools=(WEATHER,), tool_choice=choice))
    assert responses_form["tools"] == [{"type": "function", **WEATHER.to_json(), "strict": False}]
    assert responses_form["tool_choice"] == responses


def test_chat_multi_turn_carries_the_calls_and_a_tool_message():
    _, assistant, tool = chat_body(request(messages=HISTORY))["messages"]
    assert assistant == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"서울"}'}}
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "call_1", "content": "맑음, 21도"}


def test_responses_multi_turn_carries_function_call_items_and_their_output():
    _, call, output = responses_body(request("o3-pro", messages=HISTORY))["input"]
    assert call == {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"서울"}'}
    assert output == {"type": "function_call_output", "call_id": "call_1", "output": "맑음, 21도"}


def test_reasoning_effort_in_both_shapes_and_a_budget_as_a_level():
    assert chat_body(request("o3", reasoning=Reasoning(Effort.HIGH)))["reasoning_effort"] == "high"
    assert responses_body(request("o3-pro", reasoning=Reasoning(Effort.LOW)))["reasoning"] == {"effort": "low"}
    assert reasoning_effort(request("gpt-5-mini", reasoning=Reasoning(budget_tokens=2_000))) == "low"
    assert reasoning_effort(request("gpt-5-mini", reasoning=Reasoning(budget_tokens=10_000))) == "medium"
    assert reasoning_effort(request("gpt-5-mini", reasoning=Reasoning(budget_tokens=50_000))) == "high"
    assert reasoning_effort(request("gpt-5-mini", reasoning=Reasoning(budget_tokens=0))) == "minimal"
    assert reasoning_effort(request("gpt-5.2", reasoning=Reasoning(budget_tokens=0))) == "none"
    assert "reasoning_effort" not in chat_body(request("o3"))


def test_top_p_stop_seed_on_chat_and_top_p_only_on_responses():
    body = chat_body(request(top_p=0.5, stop=("끝", "END"), seed=7))
    assert (body["top_p"], body["stop"], body["seed"]) == (0.5, ["끝", "END"], 7)
    responses_form = responses_body(request("gpt-4.1", top_p=0.5))
    assert responses_form["top_p"] == 0.5 and "stop" not in responses_form and "seed" not in responses_form


def test_a_reasoning_request_to_gpt_5_1_sends_no_temperature_or_top_p():
    # gpt-5.1+ take sampling only at effort "none": asking it to reason drops them (warned)
    body = chat_body(request("gpt-5.1", temperature=0.3, top_p=0.5, reasoning=Reasoning(Effort.LOW)))
    assert "temperature" not in body and "top_p" not in body and body["reasoning_effort"] == "low"
    assert "top_p" not in chat_body(request("o3", top_p=0.5))


def test_provider_options_are_merged_last_but_never_replace_the_model():
    options = {"openai": {"service_tier": "flex", "temperature": 0.9, "model": "gpt-4o"}}
    body = chat_body(request("gpt-4o-mini", temperature=0.1, provider_options=options))
    assert body["service_tier"] == "flex" and body["temperature"] == 0.9 and body["model"] == "gpt-4o-mini"
    responses_form = responses_body(request("o3-pro", provider_options={"openai": {"reasoning": {"summary": "auto"}}}))
    assert responses_form["reasoning"] == {"summary": "auto"}
    other = chat_body(request(provider_options={"anthropic": {"top_k": 5}}))
    assert "top_k" not in other


# --- results -------------------------------------------------------------------------------


def completion(message: dict, finish: str) -> dict:
    return {"model": "gpt-4o-mini", "choices": [{"message": message, "finish_reason": finish}], "usage": {}}


def test_chat_tool_calls_come_back_parsed_and_the_answer_succeeds_without_text():
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "부산"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": '}},
    ]
    result = from_completion(
        "w1", completion({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls")
    )
    assert result.status is ResultStatus.SUCCEEDED and result.finish_reason is FinishReason.TOOL_CALLS
    assert result.content == ""
    assert result.tool_calls == (
        ToolCall("call_a", "get_weather", {"city": "부산"}),
        ToolCall("call_b", "get_weather", {"_raw": '{"city": '}),  # invalid JSON kept, not lost
    )


def test_an_empty_answer_without_calls_still_fails():
    result = from_completion("w1", completion({"role": "assistant", "content": ""}, "length"))
    assert result.status is ResultStatus.FAILED and not result.tool_calls


def test_responses_function_call_items_are_tool_calls():
    body = {
        "object": "response",
        "status": "completed",
        "model": "o3-pro",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "get_weather", "arguments": "{}"},
        ],
        "usage": {"input_tokens": 5, "output_tokens": 3},
    }
    result = from_response("w2", body)
    assert result.status is ResultStatus.SUCCEEDED and result.finish_reason is FinishReason.TOOL_CALLS
    assert result.tool_calls == (ToolCall("call_9", "get_weather", {}),)
    line = {"custom_id": "w2", "response": {"status_code": 200, "body": body}}
    assert from_wire(line).tool_calls == result.tool_calls


def test_arguments_that_are_not_an_object_are_kept_raw():
    message = {"content": None, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1, 2]"}}]}
    assert from_completion("w", completion(message, "tool_calls")).tool_calls[0].arguments == {"_raw": "[1, 2]"}


def test_prompt_cache_key_is_the_cache_key_or_derived_from_the_cache_markers():
    from dataclasses import replace

    system = "너는 상품 리뷰를 분류하는 분석가다. " * 50
    plain = request("gpt-5-mini", system=system)
    assert "prompt_cache_key" not in chat_body(plain) and "prompt_cache_key" not in responses_body(plain)
    keyed = replace(plain, cache_key="리뷰-분류-v1")
    assert chat_body(keyed)["prompt_cache_key"] == responses_body(keyed)["prompt_cache_key"] == "리뷰-분류-v1"
    marked = replace(plain, cache_system=True)
    derived = chat_body(marked)["prompt_cache_key"]
    assert (
        derived.startswith("corthex-") and len(derived) <= 64 and responses_body(marked)["prompt_cache_key"] == derived
    )
    other_question = replace(marked, messages=(Message("user", "배송이 너무 느려요"),))
    assert chat_body(other_question)["prompt_cache_key"] == derived  # only the marked prefix counts
    other_system = replace(marked, system=system + "추가 지침.")
    assert chat_body(other_system)["prompt_cache_key"] != derived
    tool = ToolSpec("get_weather", "날씨", {"type": "object", "properties": {}}, cache=True)
    assert chat_body(replace(plain, tools=(tool,)))["prompt_cache_key"].startswith("corthex-")
