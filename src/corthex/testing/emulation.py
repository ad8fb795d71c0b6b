"""The provider emulator in this process, and the SDKs pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from corthex.emulator import EmulatorConfig, EmulatorServer

#: the default: a small batch ends in tens of milliseconds
SPEED = 0.02


@contextlib.contextmanager
def emulated(speed: float = SPEED) -> Iterator[EmulatorServer]:
    """`with emulated() as emulator:` one emulator on a free port, stopped after."""
    with EmulatorServer(EmulatorConfig(speed=speed)) as server:
        yield server


def point_sdks_at(emulator: EmulatorServer, setenv: Callable[[str, str], None]) -> None:
    """Point the official SDKs at `emulator` through `setenv` (pytest's `monkeypatch.setenv`),
    with its state fresh: a test sees only its own batches and faults."""
    for key, value in emulator.env().items():
        setenv(key, value)
    emulator.state.reset()
