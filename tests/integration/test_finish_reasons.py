"""Cut, empty, refused and blocked answers through the whole engine (issue 11 items 3, 4): the
output line carries finish_reason and reasoning tokens, a failed answer keeps its cost, and the
job summary counts the cut ones."""

from __future__ import annotations

from corthex.engine.engine import Engine

QUESTION = "서울의 역사를 조선 시대부터 현대까지 자세히 설명해 주세요 부탁드립니다"
MODELS = {"openai": "gpt-5-mini", "anthropic": "claude-sonnet-4-6", "gemini": "gemini-2.5-flash"}
KINDS = ("stop", "cut", "empty", "safety")


def lines_for(provider: str) -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"{provider}-{kind}",
            "model": MODELS[provider],
            "prompt": QUESTION + ("" if kind == "stop" else f" [[emulator:finish={kind}]]"),
            "max_output_tokens": 256,
        }
        for kind in KINDS
    ]


async def test_finish_reasons_costs_and_cut_counts(engine: Engine) -> None:
    report = await engine.submit([line for provider in MODELS for line in lines_for(provider)])
    summary = await engine.wait(report.job_id, timeout=60)
    out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    for provider in MODELS:
        stop, cut, empty, safety = (out[f"{provider}-{kind}"] for kind in KINDS)
        assert (stop["status"], stop["finish_reason"]) == ("succeeded", "stop")
        assert (cut["status"], cut["finish_reason"]) == ("succeeded", "length") and cut["content"]
        assert (empty["status"], empty["finish_reason"]) == ("failed", "length")
        assert empty["error"]["type"] == "max_output_tokens" and "raise max_output_tokens" in empty["error"]["message"]
        assert empty["usage"]["output_tokens"] == empty["usage"]["reasoning_tokens"] == 256
        assert empty["cost_usd"] > 0, "the budget spent thinking is billed, and reported"
        assert safety["status"] == "failed" and safety["error"]["type"] in ("content_filter", "refusal")
        assert safety["attempts"] == 1, "a safety stop is final: sending it again would be billed again"
    assert out["openai-stop"]["usage"]["reasoning_tokens"] > 0  # gpt-5 thinks
    assert out["gemini-stop"]["usage"]["reasoning_tokens"] > 0  # gemini-2.5 thinks
    assert out["anthropic-stop"]["usage"]["reasoning_tokens"] == 0  # thinking not asked for
    assert summary.cut == 6 and all(c.cut == 2 for c in summary.by_provider.values())
    assert summary.to_dict()["cut"] == 6
    assert summary.cost_usd >= sum(line["cost_usd"] or 0 for line in out.values()) * 0.999
