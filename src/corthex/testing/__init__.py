"""Test support that ships with corthex: for this project's tests and for code built on it.

- `emulated(speed)`, `point_sdks_at(emulator, setenv)`: the provider emulator in this process,
  with the official SDKs pointed at it;
- `fast_settings(tmp_path)`, `fast_env()`: settings that keep an engine's rounds to milliseconds
  (on a copy of a migrated database; `FAKE_PACE` polls every 5 ms for the `FakeProvider`);
- `wait_until(check)`: the one way to wait for something in a test (`wait_until_sync` outside
  an event loop);
- `ServeProcess`, `EmulatorProcess`: `corthex serve` and `corthex emulator` as real processes;
- `worker_loop(engine, *job_ids)`: the worker loop in the background, an event per job completed;
- `FakeProvider`, `fake_providers()`: providers in memory, for tests of the engine's own logic
  (every provider's wire behaviour keeps its tests through the SDKs against the emulator).

Nothing here imports pytest: fixtures are built from these pieces in a conftest.
"""

from corthex.testing.emulation import emulated, point_sdks_at
from corthex.testing.fake import FakeBatch, FakeProvider, answer, fake_providers, row_error
from corthex.testing.processes import EmulatorProcess, ServeProcess, free_port
from corthex.testing.settings import FAKE_PACE, FAST, fast_env, fast_settings
from corthex.testing.waiting import wait_until, wait_until_sync
from corthex.testing.worker import worker_loop

__all__ = [
    "FAKE_PACE",
    "FAST",
    "EmulatorProcess",
    "FakeBatch",
    "FakeProvider",
    "ServeProcess",
    "answer",
    "emulated",
    "fake_providers",
    "fast_env",
    "worker_loop",
    "fast_settings",
    "free_port",
    "point_sdks_at",
    "row_error",
    "wait_until",
    "wait_until_sync",
]
