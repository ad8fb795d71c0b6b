"""`Engine.retry` (issue 16 item 2) through the SDKs against the emulator: an expired batch's
requests sent again as a new job that names the first, and answered this time."""

from __future__ import annotations

from typing import Any

import pytest

from corthex.domain.results import ResultStatus
from corthex.emulator import EmulatorServer, Fault
from corthex.engine.engine import Engine
from corthex.errors import NotFound, NothingToRetry


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_attempts": 1}  # the engine's own retries spent at once: what is left is for `retry`


REQUESTS = [{"custom_id": f"분류-{i}", "model": "gpt-5-mini", "prompt": f"리뷰 {i}: 좋아요"} for i in range(3)]


async def test_an_expired_job_is_retried_as_a_linked_job_that_succeeds(
    engine: Engine, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(Fault("openai", "create", kind="expire", fraction=0.0, times=1))
    first = (await engine.submit(REQUESTS)).job_id
    summary = await engine.wait(first, timeout=60)
    assert summary.succeeded == 0 and not summary.all_succeeded
    expired = [r async for r in engine.results(first, statuses=[ResultStatus.EXPIRED])]
    assert [r["custom_id"] for r in expired] == ["분류-0", "분류-1", "분류-2"]

    report = await engine.retry(first)
    assert report.total == 3 and report.job_id != first
    again = await engine.wait(report.job_id, timeout=60)
    assert again.retry_of == first and again.all_succeeded
    lines = [r async for r in engine.results(report.job_id)]
    assert [r["custom_id"] for r in lines] == ["분류-0", "분류-1", "분류-2"] and lines[0]["content"]

    with pytest.raises(NothingToRetry, match="nothing to retry"):
        await engine.retry(report.job_id)
    with pytest.raises(NotFound):
        await engine.retry("job_000000000000")
    assert [j.id for j in await engine.jobs()] == [report.job_id, first]
    assert [j.id for j in await engine.jobs(before=report.job_id)] == [first]
