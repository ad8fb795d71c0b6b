"""The whole neutral request through google-genai against the emulator (issue 14): parts, a tool
round trip, thinking, sampling settings and provider options, as file lines, inline and realtime;
asserted on what the emulator received."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types
from sdk_support import collect, wait_ended

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.domain.results import FinishReason, ResultStatus
from corthex.providers import GeminiProvider, WireItem

MODEL = "gemini-2.5-flash"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(200))).decode()
PDF = base64.b64encode("%PDF-1.4 분기 보고서 ".encode() * 20).decode()
WEATHER = {
    "name": "get_weather",
    "description": "도시의 날씨",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def camel(config: dict[str, Any]) -> dict[str, Any]:
    """The SDK sends its ThinkingConfig in snake_case (inline and realtime); the API takes both."""
    thinking = config.get("thinkingConfig") or {}
    renamed = {"".join(w.title() if i else w for i, w in enumerate(k.split("_"))): v for k, v in thinking.items()}
    return {**config, "thinkingConfig": renamed} if thinking else config


def either(data: dict[str, Any], camel: str) -> Any:
    """`data[camel]` or its snake_case spelling (the API takes both; the SDK sends some snake_case)."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return data.get(camel, data.get(snake))


def request(**fields: Any) -> LLMRequest:
    line = {"custom_id": "g1", "model": MODEL, **fields}
    (parsed,) = parse_lines([orjson.dumps(line)])
    assert isinstance(parsed, LLMRequest), parsed
    return parsed


async def run(provider: GeminiProvider, key: str, *requests: LLMRequest) -> tuple[str, dict[str, Any]]:
    batch = [WireItem(f"w-{i}", r) for i, r in enumerate(requests)]
    ref = await provider.submit(key, MODEL, batch)
    await wait_ended(provider, ref)
    return ref.remote_id, await collect(provider, ref)


@pytest.mark.parametrize("inline", [False, True])
async def test_korean_request_with_an_image_and_a_pdf(gemini_client, emulator, tmp_path, inline):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=inline)
    content = [
        {"type": "text", "text": "사진과 보고서를 한 문장으로 요약해 주세요"},
        {"type": "image", "data": PNG, "media_type": "image/png"},
        {"type": "document", "data": PDF, "media_type": "application/pdf"},
    ]
    name, rows = await run(provider, f"gm-parts-{inline}", request(messages=[{"role": "user", "content": content}]))
    assert rows["w-0"].status is ResultStatus.SUCCEEDED and "요약해" in (rows["w-0"].content or "")
    (sent,) = emulator.state.gemini.requests(name)
    parts = sent["contents"][0]["parts"]
    image, pdf = parts[1]["inlineData"], parts[2]["inlineData"]  # the SDK writes mime_type inline
    assert either(image, "mimeType") == "image/png" and either(pdf, "mimeType") == "application/pdf"
    assert base64.urlsafe_b64decode(parts[1]["inlineData"]["data"]) == base64.b64decode(PNG)


@pytest.mark.parametrize("inline", [False, True])
async def test_tool_round_trip(gemini_client, emulator, tmp_path, inline):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=inline)
    ask = {"role": "user", "content": "get_weather 로 서울 날씨를 알려줘"}
    _, first = await run(provider, f"gm-tools-1-{inline}", request(messages=[ask], tools=[WEATHER]))
    called = first["w-0"]
    assert called.status is ResultStatus.SUCCEEDED and called.finish_reason is FinishReason.TOOL_CALLS
    (call,) = called.tool_calls
    assert call.name == "get_weather" and isinstance(call.arguments.get("city"), str) and call.id == "call_0"
    history = [
        ask,
        {"role": "assistant", "content": "", "tool_calls": [call.to_json()]},
        {"role": "tool", "tool_call_id": call.id, "content": "맑음, 23도"},
    ]
    name, second = await run(provider, f"gm-tools-2-{inline}", request(messages=history, tools=[WEATHER]))
    answer = second["w-0"]
    assert answer.status is ResultStatus.SUCCEEDED and not answer.tool_calls and answer.content
    (sent,) = emulator.state.gemini.requests(name)
    assert sent["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"output": "맑음, 23도"},
    }


async def test_forced_tool_and_settings_reach_gemini_in_its_form(gemini_client, emulator, tmp_path):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    settings = request(
        prompt="날씨",
        tools=[WEATHER],
        tool_choice="required",
        reasoning={"effort": "low"},
        top_p=0.8,
        stop=["끝"],
        seed=42,
        provider_options={"gemini": {"generationConfig": {"topK": 4}}},
    )
    name, rows = await run(provider, "gm-settings", settings)
    assert rows["w-0"].tool_calls[0].name == "get_weather"
    (sent,) = emulator.state.gemini.requests(name)
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert camel(sent["generationConfig"]) == {
        "topP": 0.8,
        "stopSequences": ["끝"],
        "seed": 42,
        "thinkingConfig": {"thinkingBudget": 1024},
        "topK": 4,
    }


async def test_realtime_call_carries_tools_and_thinking(gemini_client, emulator, tmp_path):
    provider = GeminiProvider(tmp_path, client=gemini_client)
    result = await provider.complete(
        request(prompt="get_weather 부산", tools=[WEATHER], reasoning={"budget_tokens": 2048})
    )
    assert result.finish_reason is FinishReason.TOOL_CALLS and result.tool_calls[0].name == "get_weather"
    sent = emulator.state.gemini.generated[-1]
    assert camel(sent["generationConfig"])["thinkingConfig"] == {"thinkingBudget": 2048}
    assert either(sent["tools"][0]["functionDeclarations"][0], "parametersJsonSchema") == WEATHER["parameters"]


async def test_the_emulator_refuses_both_thinking_fields_per_row(gemini_client, emulator, tmp_path):
    provider = GeminiProvider(tmp_path, client=gemini_client)
    both = request(
        prompt="생각",
        provider_options={
            "gemini": {"generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 100}}}
        },
    )
    _, rows = await run(provider, "gm-both-thinking", both)
    assert rows["w-0"].status is ResultStatus.FAILED and "thinking_level" in rows["w-0"].error.message


async def test_inline_size_counts_parts_tools_and_thinking_as_sent(gemini_client, emulator, tmp_path):
    from test_wire_bytes_sdk import _sent  # noqa: PLC0415 - the body the SDK sent, measured there

    from corthex.domain.requests import ProviderName
    from corthex.providers.wire import gemini as gemini_wire

    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    content = [
        {"type": "text", "text": "요약"},
        {"type": "image", "data": PNG, "media_type": "image/png"},
        {"type": "document", "url": "https://example.com/a.pdf"},
    ]
    rich = request(messages=[{"role": "user", "content": content}], tools=[WEATHER], reasoning={"budget_tokens": 900})
    envelopes = []
    for n, key in ((1, "gm-size-1"), (3, "gm-size-3")):
        batch = [WireItem(f"s{n}-{i}", rich) for i in range(n)]
        sent = await _sent(provider, emulator, ProviderName.GEMINI, key, batch)
        envelopes.append(sent - sum(gemini_wire.inline_size(i) for i in batch))
    assert envelopes[0] == envelopes[1]
    assert gemini_wire.inline_size(WireItem("s", rich)) > len(PNG)  # the image counts, as sent


BAD_REQUESTS = {
    "gif": (
        [types.Part(text="이 그림"), types.Part(inline_data=types.Blob(mime_type="image/gif", data=b"GIF89a"))],
        None,
        "Unsupported MIME type: image/gif",
    ),
    "no mime type for a URL": (
        [types.Part(file_data=types.FileData(file_uri="https://example.com/x"))],
        None,
        "mime_type",
    ),
    "bad tool name": (
        "날씨",
        types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="1날씨")])]
        ),
        "Invalid function name",
    ),
    "allowed names without ANY": (
        "날씨",
        types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather")])],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(mode="AUTO", allowed_function_names=["get_weather"])
            ),
        ),
        "allowed_function_names",
    ),
    "thinking level on 2.5": (
        "생각",
        types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level="LOW")),
        "Thinking level",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
async def test_the_emulator_refuses_what_gemini_refuses(gemini_client, case):
    contents, config, words = BAD_REQUESTS[case]
    with pytest.raises(genai_errors.ClientError) as caught:
        await gemini_client.aio.models.generate_content(model=MODEL, contents=contents, config=config)
    assert caught.value.code == 400 and words in (caught.value.message or "")
