"""The whole request through the engine and the real Anthropic adapter against the emulator
(issue 14): a tool round trip on output lines, and Anthropic's refusals at intake."""

from __future__ import annotations

import base64

import pytest

from corthex.engine.engine import Engine
from corthex.errors import InvalidInput

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
WEATHER = {
    "name": "get_weather",
    "description": "도시의 날씨",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


async def lines_of(engine: Engine, job_id: str) -> dict[str, dict]:
    await engine.wait(job_id, timeout=60)
    return {line["custom_id"]: line async for line in engine.results(job_id)}


async def test_tool_calls_come_back_and_the_tool_result_gets_text(engine: Engine) -> None:
    photo = [
        {"type": "text", "text": "get_weather 로 사진 속 도시의 날씨를 알려줘"},
        {"type": "image", "data": PNG, "media_type": "image/png"},
    ]
    first = {
        "custom_id": "t1",
        "model": "claude-sonnet-4-6",
        "messages": [{"role": "user", "content": photo}],
        "tools": [WEATHER],
        "metadata": {"팀": "날씨"},
    }
    line = (await lines_of(engine, (await engine.submit([first])).job_id))["t1"]
    assert line["status"] == "succeeded" and line["finish_reason"] == "tool_calls"
    [call] = line["tool_calls"]
    assert call["name"] == "get_weather" and isinstance(call["arguments"]["city"], str)
    assert line["metadata"] == {"팀": "날씨"}
    turns = [
        first["messages"][0],
        {"role": "assistant", "content": "", "tool_calls": line["tool_calls"]},
        {"role": "tool", "tool_call_id": call["id"], "content": "맑음"},
    ]
    second = {"custom_id": "t2", "model": "claude-sonnet-4-6", "messages": turns, "tools": [WEATHER]}
    answered = (await lines_of(engine, (await engine.submit([second])).job_id))["t2"]
    assert answered["status"] == "succeeded" and answered["finish_reason"] == "stop" and answered["content"]
    assert not answered.get("tool_calls")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"top_p": 0.5}, "top_p"),
        ({"seed": 1}, "seed"),
        ({"reasoning": {"budget_tokens": 100}}, "reasoning.budget_tokens"),
    ],
)
async def test_what_anthropic_refuses_is_refused_at_submission(engine: Engine, extra: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await engine.submit([{"custom_id": "r1", "model": "claude-haiku-4-5", "prompt": "안녕", **extra}])
    assert field in str(refused.value)
