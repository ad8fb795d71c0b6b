"""Issue 17: the emulator's batch turnaround follows a lognormal per provider and model, with the
published figures as presets (emulator/turnaround.py, docs/providers.md), seeded, scaled by `speed`,
set through the control API."""

from __future__ import annotations

import statistics

import httpx
import openai
import pytest
from emu_helpers import chat_line, jsonl

from corthex.emulator import EmulatorServer
from corthex.emulator.config import EmulatorConfig
from corthex.emulator.faults import BatchFaults
from corthex.emulator.turnaround import PUBLISHED


def _draws(config: EmulatorConfig, provider: str, model: str, n: int = 2001) -> list[float]:
    return [
        config.timeline(
            0.0, 100, BatchFaults(), validate=False, finalize=False, provider=provider, model=model
        ).process_s
        for _ in range(n)
    ]


@pytest.mark.parametrize(
    "provider, model", [("openai", "gpt-5-mini"), ("anthropic", "claude-haiku-4-5"), ("gemini", "gemini-2.5-flash")]
)
def test_the_published_presets_seeded_give_their_median(provider: str, model: str) -> None:
    config = EmulatorConfig(turnaround={provider: "published"}, seed=17)
    draws = _draws(config, provider, model)
    expected = PUBLISHED[provider].median_seconds
    assert statistics.median(draws) == pytest.approx(expected, rel=0.06)
    assert _draws(EmulatorConfig(turnaround={provider: "published"}, seed=17), provider, model) == draws  # reproducible


def test_the_presets_reproduce_the_published_spreads() -> None:
    """OpenAI 14..84 minutes over a day (5th..95th percentiles); Gemini past 24 h now and then;
    Anthropic mostly under an hour, 2 h 44 min in its tail."""
    config = EmulatorConfig(turnaround={"openai": "published", "anthropic": "published", "gemini": "published"}, seed=5)
    openai_minutes = sorted(d / 60 for d in _draws(config, "openai", "gpt-5-mini"))
    assert openai_minutes[100] == pytest.approx(14, rel=0.15) and openai_minutes[1900] == pytest.approx(84, rel=0.15)
    past_a_day = sum(d > 24 * 3600 for d in _draws(config, "gemini", "gemini-2.5-flash")) / 2001
    assert 0.08 < past_a_day < 0.16
    anthropic = _draws(config, "anthropic", "claude-haiku-4-5")
    assert 0.55 < sum(d < 3600 for d in anthropic) / 2001 < 0.7
    assert 0.88 < sum(d < 164 * 60 for d in anthropic) / 2001 < 0.96


def test_a_model_entry_wins_over_its_provider_and_speed_scales_it() -> None:
    config = EmulatorConfig(
        turnaround={"openai": "published", "openai/gpt-4.1-mini": {"median_seconds": 120, "spread": 0}},
        speed=0.5,
        seed=1,
    )
    assert _draws(config, "openai", "gpt-4.1-mini", 3) == [60.0, 60.0, 60.0]
    untouched = EmulatorConfig(speed=0.5)  # no table: the fixed base + per-request time
    assert _draws(untouched, "openai", "gpt-4.1-mini", 1) == [(0.5 + 0.002 * 100) * 0.5]


def test_a_batch_created_through_the_sdk_runs_the_configured_turnaround(
    emulator: EmulatorServer, oai: openai.OpenAI
) -> None:
    response = httpx.post(
        f"{emulator.url}/_emulator/config",
        json={"turnaround": {"openai/gpt-5-mini": {"median_seconds": 3000, "spread": 0}}, "seed": 3},
    )
    assert response.status_code == 200 and response.json()["turnaround"]["openai/gpt-5-mini"]["median_seconds"] == 3000
    try:
        upload = oai.files.create(
            file=("in.jsonl", jsonl([chat_line("r1", "안녕하세요", model="gpt-5-mini")])), purpose="batch"
        )
        batch = oai.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
        timeline = emulator.state.openai.batches[batch.id].timeline
        assert timeline.process_s == pytest.approx(3000 * emulator.state.config.speed)
    finally:
        emulator.state.config.update({"turnaround": {}, "seed": None})


def test_a_bad_turnaround_is_refused_naming_the_key(emulator: EmulatorServer) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/config", json={"turnaround": {"mistral": "published"}})
    assert response.status_code == 400 and "turnaround['mistral']" in response.text
    response = httpx.post(f"{emulator.url}/_emulator/config", json={"turnaround": {"openai": {"median_seconds": -1}}})
    assert response.status_code == 400 and "median_seconds must be > 0" in response.text
    assert emulator.state.config.turnaround == {}
