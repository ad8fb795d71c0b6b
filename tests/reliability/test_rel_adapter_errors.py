"""Exceptions that escape an adapter (issue 11 item 7): not the SDK's API errors but anything, e.g.
pydantic's ValidationError on an error payload it did not expect, or the KeyError of an upload
answered HTTP 200 with an error body. Each counts as a failed call, with the backoff and the give-up
rules: the calls are bounded and the job ends, every request with a clear outcome.

A fake provider (pure engine logic, no network) raises on every call of the chosen operations.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from pathlib import Path

import pydantic
import pytest

from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import ProviderResult, ResultStatus
from corthex.domain.tiers import Tier
from corthex.engine.engine import Engine
from corthex.providers.base import Provider, WireItem
from corthex.testing import fast_settings

DEADLINE = 20.0
REQUESTS = [{"custom_id": f"r{i}", "model": "gpt-5-mini", "prompt": f"질문 {i}"} for i in range(3)]


def validation_error() -> Exception:
    class JobError(pydantic.BaseModel):  # the SDK's shape: details as strings
        details: list[str]

    try:
        JobError.model_validate({"details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo"}]})
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


ERRORS = {
    "validation": validation_error,
    "key": lambda: KeyError("file"),
    "value": lambda: ValueError("All content has been uploaded, but the upload status is not finalized."),
    "runtime": lambda: RuntimeError("boom"),
}


class Broken(Provider):
    """Answers like a provider whose batches end at once, except that every call of `failing`
    raises a fresh arbitrary exception."""

    name = ProviderName.OPENAI

    def __init__(self, failing: Collection[str], error: str) -> None:
        self.failing, self.error = set(failing), error
        self.calls: Counter[str] = Counter()
        self.sent: dict[str, list[str]] = {}

    def _call(self, op: str) -> None:
        self.calls[op] += 1
        if op in self.failing:
            raise ERRORS[self.error]()

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        self._call("submit")
        self.sent[key] = [item.wire_id for item in items]
        return RemoteRef(f"remote-{key}", {"key": key})

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        self._call("find")
        return None

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        self._call("poll")
        total = len(self.sent[ref.extra["key"]])
        return RemoteStatus(RemoteState.ENDED, "ended", total, total)

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        del keep_raw
        self._call("results")
        for wire_id in self.sent[ref.extra["key"]]:
            yield ProviderResult(wire_id, ResultStatus.SUCCEEDED, "ok")

    async def cancel(self, ref: RemoteRef) -> None:
        self._call("cancel")

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        self._call("complete")
        return ProviderResult(request.custom_id, ResultStatus.SUCCEEDED, "ok")


def bounded_settings(tmp_path: Path):
    return fast_settings(
        tmp_path,
        poll_initial=0.01,
        poll_max=0.05,
        poll_max_failures=3,
        poll_unreachable_minutes=0,
        submit_backoff=0.01,
        submit_max_failures=2,
        provider_timeout=0.01,
        max_attempts=1,
    )


#: (failing operations, what every request must end as)
CASES = {
    "every call": ({"submit", "find", "poll", "results", "cancel"}, {"failed"}),
    "status calls": ({"poll", "cancel"}, {"expired"}),
    "result reads": ({"results"}, {"failed"}),
}


@pytest.mark.parametrize("error", sorted(ERRORS))
@pytest.mark.parametrize("case", sorted(CASES))
async def test_an_adapter_raising_anything_on_every_call_is_bounded_and_the_job_ends(
    case: str, error: str, tmp_path: Path
) -> None:
    failing, outcome = CASES[case]
    provider = Broken(failing, error)
    started = time.monotonic()
    async with Engine(bounded_settings(tmp_path), providers={ProviderName.OPENAI: provider}) as engine:
        report = await engine.submit(REQUESTS)
        summary = await engine.wait(report.job_id, timeout=DEADLINE)
        lines = [line async for line in engine.results(report.job_id)]
    assert time.monotonic() - started < DEADLINE
    assert summary.completed_at is not None
    assert sorted(line["custom_id"] for line in lines) == ["r0", "r1", "r2"]
    assert {line["status"] for line in lines} == outcome, lines
    for line in lines:  # the outcome says what failed, naming the exception's type
        assert line["error"]["message"], line
    assert sum(provider.calls.values()) <= 20, provider.calls  # bounded: no hot loop
