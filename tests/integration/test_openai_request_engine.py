"""The whole request on OpenAI through the engine with the real adapter and the emulator (issue 14):
a Korean line with an image and a PDF, a tool call and its round trip, reasoning, settings; what
OpenAI would refuse is refused at intake with the line and the field named, nothing stored."""

from __future__ import annotations

import base64

import pytest

from corthex.engine.engine import Engine
from corthex.errors import InvalidInput

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
PDF = base64.b64encode("%PDF-1.4 2026년 견적서".encode()).decode()
WEATHER = {
    "name": "get_weather",
    "description": "도시의 현재 날씨",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ASK = "get_weather 도구로 서울 날씨를 알려 주세요"


async def run(engine: Engine, lines: list[dict]) -> dict[str, dict]:
    report = await engine.submit(lines)
    await engine.wait(report.job_id, timeout=60)
    return {line["custom_id"]: line async for line in engine.results(report.job_id)}


async def test_parts_tools_and_reasoning_through_the_engine(engine: Engine) -> None:
    parts = [
        {"type": "text", "text": "이 사진과 견적서를 비교해 주세요"},
        {"type": "image", "data": PNG, "media_type": "image/png"},
        {"type": "document", "data": PDF, "media_type": "application/pdf"},
    ]
    first = await run(
        engine,
        [
            {"custom_id": "사진", "model": "gpt-4o", "messages": [{"role": "user", "content": parts}], "seed": 7},
            {
                "custom_id": "날씨",
                "model": "gpt-4o-mini",
                "prompt": ASK,
                "tools": [WEATHER],
                "metadata": {"팀": "기상"},
            },
            {"custom_id": "생각", "model": "o3-pro", "prompt": "깊이 생각해 주세요", "reasoning": {"effort": "high"}},
        ],
    )
    assert first["사진"]["status"] == "succeeded" and "견적서를" in first["사진"]["content"]
    call = first["날씨"]
    assert (call["status"], call["finish_reason"]) == ("succeeded", "tool_calls")
    assert call["metadata"] == {"팀": "기상"}
    [made] = call["tool_calls"]
    assert made["name"] == "get_weather" and isinstance(made["arguments"]["city"], str)
    assert first["생각"]["status"] == "succeeded" and first["생각"]["usage"]["reasoning_tokens"] > 0

    history = [
        {"role": "user", "content": ASK},
        {"role": "assistant", "content": None, "tool_calls": [made]},
        {"role": "tool", "tool_call_id": made["id"], "content": "맑음, 21도"},
    ]
    second = await run(engine, [{"custom_id": "답", "model": "gpt-4o-mini", "messages": history, "tools": [WEATHER]}])
    assert (second["답"]["status"], second["답"]["finish_reason"]) == ("succeeded", "stop")
    assert second["답"]["content"] and not second["답"].get("tool_calls")


async def test_what_openai_would_refuse_is_refused_at_intake(engine: Engine) -> None:
    by_url = [{"type": "text", "text": "요약해 주세요"}, {"type": "document", "url": "https://example.com/보고서.pdf"}]
    lines = [
        {"custom_id": "ok", "model": "gpt-4o", "prompt": "안녕"},
        {"custom_id": "문서", "model": "gpt-4o", "messages": [{"role": "user", "content": by_url}]},
        {"custom_id": "생각", "model": "gpt-4.1", "prompt": "안녕", "reasoning": {"effort": "low"}},
        {"custom_id": "멈춤", "model": "o3-pro", "prompt": "안녕", "stop": "끝"},
    ]
    with pytest.raises(InvalidInput) as caught:
        await engine.submit(lines)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(2, "messages[0].content[1].url"), (3, "reasoning"), (4, "stop")}
