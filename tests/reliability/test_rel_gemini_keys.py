"""Gemini inline answers without their keys (python-genai#2008), through the engine, the SDK and the
emulator (issue 11 item 2). Before: one key-less row failed the whole batch's collection, which was
retried until given up, then every paid result was dropped and every request went out again.
Now: batches go as a file by default (whose lines keep their keys); with inline switched on, each
row that cannot be placed is settled on its own and the batch's other results stand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.providers.gemini import GeminiProvider
from corthex.testing import fast_settings

DEADLINE = 20.0


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the emulator (tests/conftest.py)."""


@pytest.fixture
def without_keys(emulator: EmulatorServer) -> Iterator[None]:
    emulator.state.config.quirks = {"gemini": ["inline_without_keys", "inline_shuffled"]}
    yield
    emulator.state.config.quirks = {}


def requests(n: int, model: str = "gemini-2.5-flash") -> list[dict[str, object]]:
    return [{"custom_id": f"g{i}", "model": model, "prompt": f"한국어 질문 {i}"} for i in range(n)]


async def run(tmp_path: Path, reqs: list[dict[str, object]], *, inline: bool | None) -> list[dict]:
    settings = fast_settings(tmp_path, max_attempts=2, poll_max_failures=3, poll_unreachable_minutes=0)
    async with Engine(settings) as engine:
        if inline is not None:
            engine._ctx.providers[ProviderName.GEMINI] = GeminiProvider(tmp_path / "gemini", inline=inline)
        report = await engine.submit(reqs)
        await engine.wait(report.job_id, timeout=DEADLINE)
        return [line async for line in engine.results(report.job_id)]


async def test_by_default_a_gemini_batch_keeps_its_keys(tmp_path: Path, without_keys: None) -> None:
    lines = await run(tmp_path, requests(4), inline=None)
    assert {line["status"] for line in lines} == {"succeeded"} and {line["attempts"] for line in lines} == {1}
    # each answer names the question it answers (the emulator quotes it): no answer under another's key
    for line in lines:
        assert f"“한국어 질문 {line['custom_id'][1:]}”" in line["content"], line


async def test_one_unkeyed_answer_for_one_request_left_is_that_requests_answer(
    tmp_path: Path, without_keys: None
) -> None:
    lines = await run(tmp_path, requests(1), inline=True)
    assert [(line["status"], line["attempts"]) for line in lines] == [("succeeded", 1)], lines
    assert "“한국어 질문 0”" in lines[0]["content"] and lines[0]["cost_usd"]


async def test_unkeyed_answers_that_cannot_be_placed_are_settled_each_on_its_own(
    tmp_path: Path, without_keys: None
) -> None:
    # every inline answer lost its key: none can be placed; each request gets its own outcome
    # (another attempt, then a clear failure), and the job ends
    lines = await run(tmp_path, requests(3), inline=True)
    assert sorted(line["custom_id"] for line in lines) == ["g0", "g1", "g2"]
    assert {(line["status"], line["error"]["type"], line["attempts"]) for line in lines} == {
        ("failed", "missing_result", 2)
    }, lines
