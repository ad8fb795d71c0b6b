"""The whole neutral request through `anthropic.AsyncAnthropic` against the emulator (issue 14):
parts, cache markers, tools round trip, thinking, stop, provider options, refusals."""

from __future__ import annotations

import base64

import anthropic
import pytest
from sdk_support import collect, wait_ended

from corthex.domain.content import Part, PartType, Reasoning, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ResultStatus
from corthex.providers import WireItem

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode()
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF").decode()
WEATHER = ToolSpec(
    "get_weather",
    "도시의 현재 날씨",
    {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]},
)


def ask(*turns: Message, custom_id: str = "q1", **kw) -> LLMRequest:
    return LLMRequest(custom_id, "claude-sonnet-4-6", ProviderName.ANTHROPIC, turns, **kw)


async def run_batch(provider, emulator, *requests: LLMRequest):
    wire = [WireItem(f"w-{n}", r) for n, r in enumerate(requests)]
    ref = await provider.submit("an-whole", None, wire)
    await wait_ended(provider, ref)
    return await collect(provider, ref), emulator.state.anthropic.params_of(ref.remote_id)


async def test_a_korean_request_with_an_image_and_a_pdf_goes_as_blocks(anthropic_provider, emulator):
    parts = (
        Part(PartType.TEXT, text="이 영수증 사진과 계약서 PDF의 금액이 같은지 확인하라"),
        Part(PartType.IMAGE, data=PNG, media_type="image/png"),
        Part(PartType.DOCUMENT, data=PDF, media_type="application/pdf", cache=True),
    )
    rows, [received] = await run_batch(anthropic_provider, emulator, ask(Message("user", "", parts)))
    [row] = rows.values()
    assert row.status is ResultStatus.SUCCEEDED and "영수증" in (row.content or "")
    blocks = received["messages"][0]["content"]
    assert [b["type"] for b in blocks] == ["text", "image", "document"]
    assert blocks[1]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
    assert blocks[2]["source"]["media_type"] == "application/pdf"
    assert blocks[2]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


async def test_a_tool_round_trip_calls_then_answers_in_text(anthropic_provider, emulator):
    first = ask(Message("user", "get_weather 로 서울 날씨를 알려줘"), tools=(WEATHER,))
    rows, _ = await run_batch(anthropic_provider, emulator, first)
    [called] = rows.values()
    assert called.status is ResultStatus.SUCCEEDED and called.finish_reason is FinishReason.TOOL_CALLS
    [call] = called.tool_calls
    assert call.name == "get_weather" and isinstance(call.arguments["city"], str)  # fits the schema
    second = ask(
        *first.messages,
        Message("assistant", "", tool_calls=called.tool_calls),
        Message("tool", "맑음, 23도", tool_call_id=call.id),
        tools=(WEATHER,),
    )
    answered = await anthropic_provider.complete(second)  # the realtime path maps the same way
    assert answered.status is ResultStatus.SUCCEEDED and answered.tool_calls == ()
    assert answered.finish_reason is FinishReason.STOP and answered.content
    sent = emulator.state.anthropic.messages[-1]["messages"]
    assert sent[1]["content"][0]["type"] == "tool_use" and sent[2]["content"][0]["tool_use_id"] == call.id


async def test_tool_choice_none_and_a_forced_tool(anthropic_provider, emulator):
    prompt = Message("user", "get_weather 가 필요 없는 인사말")
    silent = await anthropic_provider.complete(ask(prompt, tools=(WEATHER,), tool_choice=ToolChoice(ToolMode.NONE)))
    assert silent.tool_calls == () and silent.finish_reason is FinishReason.STOP
    forced = await anthropic_provider.complete(
        ask(Message("user", "안녕"), tools=(WEATHER,), tool_choice=ToolChoice(ToolMode.REQUIRED))
    )
    assert [c.name for c in forced.tool_calls] == ["get_weather"]
    assert emulator.state.anthropic.messages[-1]["tool_choice"] == {"type": "any"}


async def test_thinking_goes_in_anthropics_form(anthropic_provider, emulator):
    rows, [received] = await run_batch(
        anthropic_provider, emulator, ask(Message("user", "깊이 생각하라"), reasoning=Reasoning(budget_tokens=2_048))
    )
    assert received["thinking"] == {"type": "enabled", "budget_tokens": 2_048}
    assert received["max_tokens"] > 2_048
    [row] = rows.values()
    assert row.status is ResultStatus.SUCCEEDED and row.usage.reasoning_tokens > 0


async def test_stop_goes_as_stop_sequences_and_cuts_the_answer(anthropic_provider, emulator):
    request = ask(Message("user", "[[emulator:reply=첫째 줄 끝 둘째 줄]]"), stop=("끝",))
    result = await anthropic_provider.complete(request)
    assert emulator.state.anthropic.messages[-1]["stop_sequences"] == ["끝"]
    assert result.status is ResultStatus.SUCCEEDED and result.content == "첫째 줄 "


async def test_provider_options_are_merged_into_the_params(anthropic_provider, emulator):
    options = {"anthropic": {"metadata": {"user_id": "분석팀-7"}, "model": "claude-opus-4-6"}}
    _, [received] = await run_batch(
        anthropic_provider, emulator, ask(Message("user", "안녕"), provider_options=options)
    )
    assert received["metadata"] == {"user_id": "분석팀-7"} and received["model"] == "claude-sonnet-4-6"


async def test_a_bad_thinking_budget_is_an_errored_row_in_anthropics_shape(anthropic_provider, emulator):
    # what intake refuses, sent anyway through the escape hatch: the emulator refuses it as the API does
    bad = {"anthropic": {"thinking": {"type": "enabled", "budget_tokens": 100}}}
    rows, _ = await run_batch(anthropic_provider, emulator, ask(Message("user", "안녕"), provider_options=bad))
    [row] = rows.values()
    assert (
        row.status is ResultStatus.FAILED
        and row.error.type == "invalid_request"
        and row.error.code == "invalid_request_error"
    )
    assert "budget_tokens" in row.error.message


@pytest.mark.parametrize("field", ["top_p", "seed"])
async def test_the_messages_api_has_no_top_p_or_seed(anthropic_client, field):
    with pytest.raises(anthropic.BadRequestError, match=field):
        await anthropic_client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=100,
            messages=[{"role": "user", "content": "안녕"}],
            extra_body={field: 1},
        )


async def test_an_unpaired_tool_use_is_refused(anthropic_client):
    with pytest.raises(anthropic.BadRequestError, match="tool_result"):
        await anthropic_client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=100,
            messages=[
                {"role": "user", "content": "날씨"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
                {"role": "user", "content": "답은?"},
            ],
        )
