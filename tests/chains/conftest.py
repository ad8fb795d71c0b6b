"""Chains end to end: the real engine, the official SDKs, the emulator, a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from engine_support import fast_settings

from corthex.config import Settings
from corthex.engine.engine import Engine


@pytest.fixture(autouse=True)
def _emulated(emulator_env: None) -> None:
    """Every test here talks to the emulator (tests/conftest.py)."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path, max_attempts=1)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    async with Engine(settings) as e:
        yield e
