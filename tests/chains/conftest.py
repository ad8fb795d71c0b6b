"""Chains end to end: the real engine, the official SDKs, the emulator, a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from corthex.config import Settings
from corthex.emulator import EmulatorConfig, EmulatorServer
from corthex.engine.engine import Engine


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(speed=0.02)) as server:
        yield server


@pytest.fixture(autouse=True)
def emulator_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    emulator.state.reset()
    yield
    emulator.state.clear_faults()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        data_dir=tmp_path / "data",
        archive_dir=tmp_path / "archive",
        poll_initial=0.05,
        poll_max=0.3,
        idle_recheck=0.2,
        submit_backoff=0.05,
        provider_max_retries=0,
        max_attempts=1,
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    async with Engine(settings) as e:
        yield e
