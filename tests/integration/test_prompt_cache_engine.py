"""Prompt caching end to end (issue 14): `cache` markers and `cache_key` through the engine, the
real adapters and the emulator; the output line reports cached reads and writes and its cost prices
them at the batch cache rates (docs/wire/costs.md)."""

from __future__ import annotations

from dataclasses import replace

from corthex.domain.pricing import batch_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import Usage
from corthex.engine.engine import Engine

SYSTEM = "너는 상품 리뷰를 긍정, 부정, 중립으로 분류하는 꼼꼼한 분석가다. " * 120
REVIEWS = ["배송이 빨라서 좋아요", "포장이 찢어져 왔어요", "그냥 평범합니다"]
CLASSIFY = {
    "name": "record_label",
    "description": "리뷰의 분류 결과를 기록한다. " * 60,
    "parameters": {"type": "object", "properties": {"label": {"type": "string"}}},
}


async def run(engine: Engine, lines: list[dict]) -> dict[str, dict]:
    report = await engine.submit(lines)
    await engine.wait(report.job_id, timeout=60)
    return {line["custom_id"]: line async for line in engine.results(report.job_id)}


def usage_of(line: dict) -> Usage:
    fields = set(Usage.__dataclass_fields__)
    return Usage(**{k: v for k, v in line["usage"].items() if k in fields})


async def test_openai_cache_key_reads_are_reported_and_priced(engine: Engine) -> None:
    # gpt-5-mini publishes a batch cached-input rate (genai-prices: $0.0125/MTok, input $0.125);
    # gpt-4o and gpt-4o-mini publish none for batch, so their cached tokens cost the batch input rate
    lines = [
        {"custom_id": f"리뷰-{n}", "model": "gpt-5-mini", "system": SYSTEM, "prompt": text, "cache_key": "리뷰-v1"}
        for n, text in enumerate(REVIEWS)
    ]
    out = await run(engine, lines)
    usages = {cid: usage_of(line) for cid, line in out.items()}
    assert all(line["status"] == "succeeded" for line in out.values())
    read = [cid for cid, u in usages.items() if u.cached_tokens]
    assert len(read) == 2  # the first request writes the cache, the two after it read it
    for cid in read:
        usage = usages[cid]
        assert usage.cached_tokens % 128 == 0 and usage.cached_tokens <= usage.input_tokens
        uncached = Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        cost = out[cid]["cost_usd"]
        assert cost == batch_cost(ProviderName.OPENAI, "gpt-5-mini", usage)
        assert cost < batch_cost(ProviderName.OPENAI, "gpt-5-mini", uncached)


async def test_anthropic_cached_tools_and_system_write_then_read_and_are_priced(engine: Engine) -> None:
    lines = [
        {
            "custom_id": f"분류-{n}",
            "model": "claude-sonnet-4-6",
            "system": SYSTEM,
            "cache_system": True,
            "tools": [{**CLASSIFY, "cache": True}],
            "tool_choice": "auto",
            "prompt": text,
        }
        for n, text in enumerate(REVIEWS)
    ]
    out = await run(engine, lines)
    usages = {cid: usage_of(line) for cid, line in out.items()}
    assert all(line["status"] == "succeeded" for line in out.values())
    writes = [u for u in usages.values() if u.cache_write_tokens]
    reads = [u for u in usages.values() if u.cached_tokens]
    assert len(writes) == 1 and len(reads) == 2
    assert reads[0].cached_tokens == writes[0].cache_write_tokens  # the same prefix: tools and system
    for cid, usage in usages.items():  # every write is a 1-hour one (cache_control ttl "1h")
        priced = replace(usage, cache_write_1h_tokens=usage.cache_write_tokens)
        assert out[cid]["cost_usd"] == batch_cost(ProviderName.ANTHROPIC, "claude-sonnet-4-6", priced)
    uncached = Usage(input_tokens=reads[0].input_tokens, output_tokens=reads[0].output_tokens)
    assert batch_cost(ProviderName.ANTHROPIC, "claude-sonnet-4-6", reads[0]) < batch_cost(
        ProviderName.ANTHROPIC, "claude-sonnet-4-6", uncached
    )
