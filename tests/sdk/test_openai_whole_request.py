"""The whole neutral request through `openai.AsyncOpenAI` against the emulator (issue 14): parts,
a tool-calling round trip, reasoning, sampling settings and provider options, on batch lines and
realtime calls, on chat completions and responses."""

from __future__ import annotations

import base64

import openai
import pytest
from sdk_support import collect, wait_ended

from corthex.domain.content import Effort, Part, PartType, Reasoning, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ResultStatus
from corthex.providers import WireItem

OPENAI = ProviderName.OPENAI
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
PDF = base64.b64encode("%PDF-1.4 2026년 견적서".encode()).decode()
WEATHER = ToolSpec(
    "get_weather",
    "도시의 현재 날씨",
    {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]},
)
ASK_WEATHER = "get_weather 도구로 서울 날씨를 알려 주세요"


def wide_message() -> Message:
    parts = (
        Part(PartType.TEXT, text="이 사진과 견적서를 비교해 주세요"),
        Part(PartType.IMAGE, data=PNG, media_type="image/png"),
        Part(PartType.DOCUMENT, data=PDF, media_type="application/pdf"),
    )
    return Message("user", "", parts)


def lines_of(emulator, input_file_id: str) -> list[dict]:
    return [line for file_id, line in emulator.state.openai.input_lines() if file_id == input_file_id]


def realtime_bodies(emulator, path: str) -> list[dict]:
    return [r["json"] for r in emulator.state.openai_requests if r["path"] == path and r["method"] == "POST"]


def request(model: str, *messages: Message, **kw) -> LLMRequest:
    return LLMRequest("q1", model, OPENAI, messages, **kw)


async def test_a_korean_request_with_an_image_and_a_pdf_goes_out_in_a_batch_and_is_answered(openai_provider, emulator):
    batch = [WireItem(f"mm-{i}", request("gpt-4o", wide_message(), max_output_tokens=200)) for i in range(2)]
    ref = await openai_provider.submit("oa-multipart", "gpt-4o", batch)
    line = lines_of(emulator, ref.extra["input_file_id"])[0]
    text, image, document = line["body"]["messages"][0]["content"]
    assert text["text"] == "이 사진과 견적서를 비교해 주세요"
    assert image["image_url"]["url"] == f"data:image/png;base64,{PNG}"
    assert document["file"]["file_data"] == f"data:application/pdf;base64,{PDF}"
    await wait_ended(openai_provider, ref)
    rows = await collect(openai_provider, ref)
    assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED}
    assert all("견적서를" in (r.content or "") for r in rows.values())


async def test_a_pdf_by_url_goes_to_responses_as_input_file_realtime(openai_provider, emulator):
    parts = (
        Part(PartType.TEXT, text="보고서를 요약해 주세요"),
        Part(PartType.DOCUMENT, url="https://example.com/보고서.pdf"),
    )
    result = await openai_provider.complete(request("o3-pro", Message("user", "", parts)))
    assert result.status is ResultStatus.SUCCEEDED and "보고서를" in (result.content or "")
    sent = realtime_bodies(emulator, "/responses")[-1]
    assert sent["input"][0]["content"][1] == {"type": "input_file", "file_url": "https://example.com/보고서.pdf"}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "o3-pro"])
async def test_a_tool_calling_round_trip_realtime(openai_provider, model):
    first = await openai_provider.complete(request(model, Message("user", ASK_WEATHER), tools=(WEATHER,)))
    assert first.status is ResultStatus.SUCCEEDED and first.finish_reason is FinishReason.TOOL_CALLS
    [call] = first.tool_calls
    assert call.name == "get_weather" and isinstance(call.arguments["city"], str) and call.id
    history = (
        Message("user", ASK_WEATHER),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "맑음, 기온 21도", tool_call_id=call.id),
    )
    second = await openai_provider.complete(request(model, *history, tools=(WEATHER,)))
    assert second.status is ResultStatus.SUCCEEDED and second.finish_reason is FinishReason.STOP
    assert second.content and not second.tool_calls


async def test_a_tool_calling_round_trip_in_batches(openai_provider, emulator):
    forced = ToolChoice(ToolMode.TOOL, "get_weather")
    asked = [
        WireItem("t-1", request("gpt-4o-mini", Message("user", "부산은 어때요?"), tools=(WEATHER,), tool_choice=forced))
    ]
    ref = await openai_provider.submit("oa-tools-1", "gpt-4o-mini", asked)
    await wait_ended(openai_provider, ref)
    [row] = (await collect(openai_provider, ref)).values()
    assert row.status is ResultStatus.SUCCEEDED and row.finish_reason is FinishReason.TOOL_CALLS
    [call] = row.tool_calls
    history = (
        Message("user", "부산은 어때요?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "흐림", tool_call_id=call.id),
    )
    answered = [WireItem("t-2", request("gpt-4o-mini", *history, tools=(WEATHER,)))]
    ref2 = await openai_provider.submit("oa-tools-2", "gpt-4o-mini", answered)
    sent = lines_of(emulator, ref2.extra["input_file_id"])[0]["body"]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id and sent[2] == {
        "role": "tool",
        "tool_call_id": call.id,
        "content": "흐림",
    }
    await wait_ended(openai_provider, ref2)
    [row2] = (await collect(openai_provider, ref2)).values()
    assert row2.status is ResultStatus.SUCCEEDED and row2.finish_reason is FinishReason.STOP and row2.content


async def test_auto_answers_text_when_no_tool_is_mentioned_and_none_never_calls(openai_provider, emulator):
    plain = await openai_provider.complete(request("gpt-4o-mini", Message("user", "안녕하세요"), tools=(WEATHER,)))
    assert plain.finish_reason is FinishReason.STOP and not plain.tool_calls
    none = ToolChoice(ToolMode.NONE)
    quiet = await openai_provider.complete(
        request("gpt-4o-mini", Message("user", ASK_WEATHER), tools=(WEATHER,), tool_choice=none)
    )
    assert quiet.finish_reason is FinishReason.STOP and not quiet.tool_calls
    sent = realtime_bodies(emulator, "/chat/completions")[-1]
    assert sent["tool_choice"] == "none" and sent["tools"][0]["function"]["name"] == "get_weather"


async def test_reasoning_goes_out_in_openai_form(openai_provider, emulator):
    ref = await openai_provider.submit(
        "oa-reasoning",
        "o3",
        [WireItem("r-1", request("o3", Message("user", "깊이 생각해 주세요"), reasoning=Reasoning(Effort.HIGH)))],
    )
    assert lines_of(emulator, ref.extra["input_file_id"])[0]["body"]["reasoning_effort"] == "high"
    result = await openai_provider.complete(
        request("o3-pro", Message("user", "깊이 생각해 주세요"), reasoning=Reasoning(budget_tokens=10_000))
    )
    assert result.status is ResultStatus.SUCCEEDED and result.usage.reasoning_tokens > 0
    assert realtime_bodies(emulator, "/responses")[-1]["reasoning"] == {"effort": "medium"}


async def test_top_p_stop_seed_and_provider_options_go_out_on_chat(openai_provider, emulator):
    options = {"openai": {"service_tier": "default", "user": "연구팀"}}  # gpt-4o-mini takes no flex
    req = request(
        "gpt-4o-mini", Message("user", "짧게 답해 주세요"), top_p=0.5, stop=("끝",), seed=7, provider_options=options
    )
    result = await openai_provider.complete(req)
    assert result.status is ResultStatus.SUCCEEDED
    sent = realtime_bodies(emulator, "/chat/completions")[-1]
    assert (sent["top_p"], sent["stop"], sent["seed"]) == (0.5, ["끝"], 7)
    assert sent["service_tier"] == "default" and sent["user"] == "연구팀" and sent["model"] == "gpt-4o-mini"


# --- the emulator refuses what OpenAI refuses ---------------------------------------------------

USER = [{"role": "user", "content": "안녕"}]


async def test_emulator_refuses_what_openai_refuses(openai_client):
    cases = [
        (dict(model="gpt-4o", messages=USER, stop=["a", "b", "c", "d", "e"]), "stop", "array_above_max_length"),
        (dict(model="o3", messages=USER, stop="끝"), "stop", "unsupported_parameter"),
        (dict(model="gpt-4o", messages=USER, reasoning_effort="low"), "reasoning_effort", "unsupported_parameter"),
        (dict(model="o3", messages=USER, reasoning_effort="minimal"), "reasoning_effort", "unsupported_value"),
        (
            dict(
                model="gpt-4o",
                messages=[{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}],
            ),
            "messages[0].content[0].type",
            "invalid_value",
        ),
        (
            dict(
                model="gpt-4o",
                messages=[{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}],
            ),
            "messages[0].content[0].image_url",
            "invalid_type",
        ),
        (
            dict(model="gpt-4o", messages=[*USER, {"role": "tool", "tool_call_id": "call_x", "content": "결과"}]),
            "messages[1].role",
            "invalid_value",
        ),
        (
            dict(model="gpt-4o", messages=USER, tools=[{"type": "function", "function": {"name": "날씨"}}]),
            "tools[0].function.name",
            "invalid_value",
        ),
    ]
    for kwargs, param, code in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            await openai_client.chat.completions.create(**kwargs)
        assert (caught.value.param, caught.value.code) == (param, code), kwargs


async def test_emulator_refuses_chat_only_fields_and_unpaired_outputs_on_responses(openai_client):
    for kwargs, param in [
        (dict(extra_body={"seed": 7}), "seed"),
        (dict(extra_body={"stop": ["끝"]}), "stop"),
        (dict(input=[{"type": "function_call_output", "call_id": "call_x", "output": "결과"}]), "input"),
    ]:
        with pytest.raises(openai.BadRequestError) as caught:
            await openai_client.responses.create(model="o3-pro", **{"input": "안녕", **kwargs})
        assert caught.value.param == param
