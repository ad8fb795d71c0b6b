"""The emulator as its own process, shared by a module's tests (reset before each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corthex.testing import EmulatorProcess


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
