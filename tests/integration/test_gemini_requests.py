"""The whole request through the engine and the real Gemini adapter (issue 14): images, PDFs and
a tool round trip come back on the output line, by file and inline."""

from __future__ import annotations

import base64

import pytest

from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine

MODEL = "gemini-2.5-flash"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(100)).decode()
PDF = base64.b64encode("%PDF-1.4 계약서 ".encode() * 10).decode()
WEATHER = {
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(params=["file", "inline"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "inline":
        monkeypatch.setenv("CORTHEX_GEMINI_INLINE", "1")
    return str(request.param)


async def test_parts_and_a_tool_round_trip_through_the_engine(
    mode: str, engine: Engine, emulator: EmulatorServer
) -> None:
    content = [
        {"type": "text", "text": "get_weather 를 써서 사진과 계약서의 도시 날씨를 알려줘"},
        {"type": "image", "data": PNG, "media_type": "image/png"},
        {"type": "document", "data": PDF, "media_type": "application/pdf"},
    ]
    first = {
        "custom_id": "t1",
        "model": MODEL,
        "messages": [{"role": "user", "content": content}],
        "tools": [WEATHER],
        "metadata": {"출처": "테스트"},
    }
    report = await engine.submit([first])
    await engine.wait(report.job_id, timeout=60)
    (line,) = [row async for row in engine.results(report.job_id)]
    assert line["status"] == "succeeded" and line["finish_reason"] == "tool_calls", line
    (call,) = line["tool_calls"]
    assert call["name"] == "get_weather" and call["id"] == "call_0"
    second = {
        **first,
        "custom_id": "t2",
        "messages": [
            {"role": "user", "content": content},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "맑음"},
        ],
    }
    report = await engine.submit([second])
    await engine.wait(report.job_id, timeout=60)
    (line,) = [row async for row in engine.results(report.job_id)]
    assert line["status"] == "succeeded" and line["content"] and not line.get("tool_calls")
    batches = list(emulator.state.gemini.batches.values())
    assert [b.inline is not None for b in batches[-2:]] == [mode == "inline"] * 2
