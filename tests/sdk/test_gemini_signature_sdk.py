"""Gemini 3 thought signatures through `google.genai` against the emulator (issue 14): a function
call comes back with its `thoughtSignature`, the result keeps it as the call's `signature`, and
a replayed call carries it back on its part; a Gemini 3 model refuses a replayed call without one
(ai.google.dev/gemini-api/docs/thought-signatures; docs/wire/requests-gemini.md)."""

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

GEMINI_3 = "gemini-3-flash-preview"
WEATHER = {
    "name": "get_weather",
    "description": "도시의 날씨",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ASK = {"role": "user", "content": "get_weather 로 서울 날씨를 알려줘"}


def request(model: str, **fields: Any) -> LLMRequest:
    (parsed,) = parse_lines([orjson.dumps({"custom_id": "g1", "model": model, **fields})])
    assert isinstance(parsed, LLMRequest), parsed
    return parsed


async def run(provider: GeminiProvider, key: str, model: str, req: LLMRequest) -> tuple[str, Any]:
    ref = await provider.submit(key, model, [WireItem("w-0", req)])
    await wait_ended(provider, ref)
    return ref.remote_id, (await collect(provider, ref))["w-0"]


@pytest.mark.parametrize("inline", [False, True])
async def test_a_gemini_3_call_keeps_its_signature_and_sends_it_back(gemini_client, emulator, tmp_path, inline):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=inline)
    _, called = await run(provider, f"gm3-sig-1-{inline}", GEMINI_3, request(GEMINI_3, messages=[ASK], tools=[WEATHER]))
    assert called.status is ResultStatus.SUCCEEDED and called.finish_reason is FinishReason.TOOL_CALLS
    (call,) = called.tool_calls
    assert call.signature and base64.b64decode(call.signature + "=" * (-len(call.signature) % 4), altchars=b"-_")
    assert call.to_json()["signature"] == call.signature  # the output line carries it
    history = [
        ASK,
        {"role": "assistant", "content": "", "tool_calls": [call.to_json()]},
        {"role": "tool", "tool_call_id": call.id, "content": "맑음, 23도"},
    ]
    name, answer = await run(
        provider, f"gm3-sig-2-{inline}", GEMINI_3, request(GEMINI_3, messages=history, tools=[WEATHER])
    )
    assert answer.status is ResultStatus.SUCCEEDED and answer.content and not answer.tool_calls
    (sent,) = emulator.state.gemini.requests(name)
    replayed = sent["contents"][1]["parts"][0]
    signature = replayed.get("thoughtSignature", replayed.get("thought_signature"))
    decode = lambda s: base64.b64decode(s + "=" * (-len(s) % 4), altchars=b"-_")  # noqa: E731
    assert decode(signature) == decode(call.signature)  # the same bytes, whichever alphabet the SDK wrote


async def test_gemini_2_5_calls_carry_no_signature(gemini_client, tmp_path):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    model = "gemini-2.5-flash"
    _, called = await run(provider, "gm25-sig", model, request(model, messages=[ASK], tools=[WEATHER]))
    (call,) = called.tool_calls
    assert call.signature is None and "signature" not in call.to_json()


async def test_the_emulator_refuses_an_unsigned_replayed_call_on_gemini_3(gemini_client):
    contents = [
        types.Content(role="user", parts=[types.Part(text="get_weather 로 서울 날씨를 알려줘")]),
        types.Content(
            role="model",
            parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "서울"}))],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(function_response=types.FunctionResponse(name="get_weather", response={"output": "맑음"}))
            ],
        ),
    ]
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather")])]
    )
    with pytest.raises(genai_errors.ClientError) as caught:
        await gemini_client.aio.models.generate_content(model=GEMINI_3, contents=contents, config=config)
    assert caught.value.code == 400 and "missing a thought_signature" in (caught.value.message or "")
    assert "get_weather" in (caught.value.message or "")
    # the same history on 2.5 is fine, and so is an unsigned call of an earlier turn on Gemini 3
    answer = await gemini_client.aio.models.generate_content(model="gemini-2.5-flash", contents=contents, config=config)
    assert answer.text
    later = [*contents, types.Content(role="model", parts=[types.Part(text="맑습니다")]), contents[0]]
    answer = await gemini_client.aio.models.generate_content(model=GEMINI_3, contents=later, config=config)
    assert answer.candidates
