"""The turnaround the deadline work learns from (issue 17) keeps each batch's time to start as well
as its time to end: a poll that finds the batch running at its provider records when it first saw
it, through the OpenAI SDK against the emulator."""

from __future__ import annotations

from corthex.domain.turnaround import spreads
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine


async def test_a_batch_seen_running_keeps_its_time_to_start_beside_its_time_to_end(
    engine: Engine, emulator: EmulatorServer
) -> None:
    speed = emulator.config.speed
    emulator.config.update({"turnaround": {"openai/gpt-5-mini": {"median_seconds": 1.5 / speed, "spread": 0}}})
    lines = [{"custom_id": f"시작-{i}", "model": "gpt-5-mini", "prompt": f"요약 {i}"} for i in range(3)]
    report = await engine.submit(lines)
    summary = await engine.wait(report.job_id, timeout=60)
    assert summary.succeeded == 3
    [past] = await engine._store.turnaround_history()
    assert past.start_seconds is not None and 0 <= past.start_seconds < past.seconds, past
    spread = spreads([past])[("openai", "gpt-5-mini")]
    assert spread.median_start == past.start_seconds and spread.median == past.seconds
