"""Exactly-once submission, provider by provider: a batch created at the provider whose creation
was never recorded (the process died in between) is found by its key and adopted, never created
again — OpenAI by metadata `corthex_key`, Gemini by display name, Anthropic by creation window and
request count, leaving out the batches already recorded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from corthex.config import Settings
from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer
from corthex.engine.dispatch import StoredItems
from corthex.engine.engine import Engine
from corthex.testing import fast_settings

MODEL = {"openai": "gpt-5-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the emulator (tests/conftest.py)."""


def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path, poll_max=0.2, idle_recheck=0.05, lease_seconds=0.3)


async def orphan(engine: Engine, provider: str, tag: str, n: int) -> tuple[str, str, str]:
    """A job whose batch was created at the provider but not recorded: (job, batch, remote id)."""
    report = await engine.submit(
        [{"custom_id": f"{tag}{i}", "model": MODEL[provider], "prompt": "p"} for i in range(n)]
    )
    ids = [
        i.request_id
        for i in await engine._store.dispatchable(time.time())
        if i.request_id.startswith(report.job_id[4:])
    ]
    batch_id = f"cb_orphan_{tag}"
    model = None if provider == "anthropic" else MODEL[provider]
    await engine._store.open_batch(
        batch_id, ProviderName(provider), model, ids, now=time.time(), owner="dead", lease=0.3
    )
    items = StoredItems(await engine._store.batch_bodies(batch_id))
    ref = await engine._ctx.provider(provider).submit(batch_id, model, items)  # ... and then the process died
    return report.job_id, batch_id, ref.remote_id


@pytest.mark.parametrize("provider", list(MODEL))
async def test_an_orphan_is_adopted_not_created_again(provider: str, tmp_path: Path, emulator: EmulatorServer) -> None:
    async with Engine(settings(tmp_path)) as engine:
        job_id, batch_id, remote_id = await orphan(engine, provider, "o", 3)
        summary = await engine.wait(job_id, timeout=30)
        batch = await engine._store.get_batch(batch_id)
    assert summary.succeeded == 3
    assert batch.remote is not None and batch.remote.remote_id == remote_id
    assert emulator.state.stats()[provider]["batches_created"] == 1


async def test_anthropic_adoption_leaves_out_recorded_batches_of_the_same_size(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    async with Engine(settings(tmp_path)) as engine:
        job_id, batch_id, remote_id = await orphan(engine, "anthropic", "a", 3)
        # another batch of the same size, created and recorded just after the orphan
        other = await engine.submit(
            [{"custom_id": f"b{i}", "model": MODEL["anthropic"], "prompt": "p"} for i in range(3)]
        )
        await engine.step()
        assert emulator.state.stats()["anthropic"]["batches_created"] == 2
        await engine.wait(job_id, timeout=30)
        await engine.wait(other.job_id, timeout=30)
        batch = await engine._store.get_batch(batch_id)
    assert batch.remote is not None and batch.remote.remote_id == remote_id  # the right one, by elimination
    assert emulator.state.stats()["anthropic"]["batches_created"] == 2  # nothing created a third time
