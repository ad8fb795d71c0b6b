"""A deadline against the emulator through the providers' SDKs (issue 17): Anthropic's batches
have run in a blink so far, then one takes the published kind of hours (the emulator's
turnaround); the engine sees it run past everything it has seen, cancels it at Anthropic before
the deadline and answers its requests in realtime (Claude has no flex), each once."""

from __future__ import annotations

import time
from collections import Counter

from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine


def requests(n: int, prefix: str) -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"{prefix}{i}",
            "model": "claude-haiku-4-5",
            "prompt": f"보고서 {i} 요약",
            "max_output_tokens": 64,
        }
        for i in range(n)
    ]


async def test_a_slow_anthropic_batch_is_canceled_and_its_requests_answered_in_realtime_by_the_deadline(
    engine: Engine, emulator: EmulatorServer
) -> None:
    first = await engine.submit(requests(4, "h"))
    await engine.wait(first.job_id, timeout=60)  # the turnaround seen so far: well under a second
    emulator.config.update({"turnaround": {"anthropic": {"median_seconds": 10_000, "spread": 0}}})
    before = emulator.state.stats()["anthropic"]
    started = time.time()
    report = await engine.submit(requests(4, "d"), deadline="8s", deadline_margin=1)
    summary = await engine.wait(report.job_id, timeout=60)
    finished = time.time()
    after = emulator.state.stats()["anthropic"]
    lines = [line async for line in engine.results(report.job_id)]
    assert finished < started + 8, f"done {finished - started:.1f}s after submission"
    assert summary.succeeded == 4 and Counter(line["tier"] for line in lines) == {"realtime": 4}
    assert Counter(line["custom_id"] for line in lines) == {f"d{i}": 1 for i in range(4)}
    assert after["batches_created"] - before["batches_created"] == 1
    calls = Counter(after["calls"]) - Counter(before["calls"])
    assert calls["realtime"] == 4, calls  # each request asked once more, in realtime
    # the slow batch was canceled at Anthropic, and what it held was read (nothing: it had not run)
    assert (calls["cancel"], calls["results"]) == (1, 1), calls
    assert summary.deadline_cost_usd > 0
