"""An emulator for the module and an engine per test, on a fresh SQLite file, through the
official SDKs (no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from engine_support import fast_settings

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
    return fast_settings(tmp_path)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    async with Engine(settings) as e:
        yield e
