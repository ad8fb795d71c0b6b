"""What an output line hands back beyond the answer's text (issue 14): the request's metadata,
and the tool calls a model made (an answer of calls and no text is a success)."""

from __future__ import annotations

from corthex.domain.content import ToolCall
from corthex.domain.results import FinishReason, ProviderResult, ResultStatus, Usage
from corthex.engine.engine import Engine
from corthex.providers.base import WireItem
from corthex.testing import FakeProvider

Fakes = dict[str, FakeProvider]


def calls_a_tool(item: WireItem) -> ProviderResult:
    call = ToolCall("call_1", "lookup_rate", {"통화": "USD"})
    usage = Usage(input_tokens=20, output_tokens=8)
    return ProviderResult(
        item.wire_id,
        ResultStatus.SUCCEEDED,
        None,
        item.request.model,
        usage,
        finish_reason=FinishReason.TOOL_CALLS,
        tool_calls=(call,),
    )


async def test_tool_calls_and_metadata_come_back_on_the_line(engine: Engine, fakes: Fakes) -> None:
    fakes["anthropic"].handler = calls_a_tool  # type: ignore[assignment]
    tools = [{"name": "lookup_rate", "parameters": {"type": "object"}}]
    report = await engine.submit(
        [
            {
                "custom_id": "환율",
                "model": "claude-haiku-4-5",
                "prompt": "원달러?",
                "tools": tools,
                "metadata": {"팀": "재무"},
            },
            {"custom_id": "plain", "model": "gpt-5-mini", "prompt": "안녕"},
        ]
    )
    await engine.wait(report.job_id, timeout=30)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    rate = lines["환율"]
    assert rate["status"] == "succeeded" and rate["finish_reason"] == "tool_calls"
    assert rate["tool_calls"] == [{"id": "call_1", "name": "lookup_rate", "arguments": {"통화": "USD"}}]
    assert rate["metadata"] == {"팀": "재무"}
    assert "tool_calls" not in lines["plain"] and "metadata" not in lines["plain"]
