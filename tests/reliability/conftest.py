"""The emulator as its own process, shared by a module's tests (reset before each). The Telegram
tests' fake Bot API (tests/telegram/tg_fakebot.py) is importable here too: the Telegram door of
the bad-input table uses it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telegram"))

from rel_harness import EmulatorProcess  # noqa: E402


@pytest.fixture(scope="module")
def emulator_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess(Path(tmp_path_factory.mktemp("emulator")) / "emulator.log", speed=0.05)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator_process(emulator_proc: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The emulator as its own process (the kill tests kill workers, not it); `emulator` is the
    in-process one of tests/conftest.py."""
    emulator_proc.reset()
    yield emulator_proc
    emulator_proc.clear_faults()
