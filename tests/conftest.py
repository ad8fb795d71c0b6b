"""The fixtures every test directory shares (the pieces come from the shipped `corthex.testing`):

- `pg_cluster`, `pg_url`: a real PostgreSQL, started once per session on first use (tests that need
  it are skipped, saying why, where its binaries are absent);
- `emulator` (one per module, at `emulator_speed`; a directory overrides that fixture to run it
  slower), `emulator_env`: the provider emulator with the official SDKs pointed at it. Every test
  in `EMULATED_DIRS` gets `emulator_env`;
- `settings` (fast, on a fresh SQLite file; a directory adds `settings_overrides`), `providers`
  (None: the real adapters; tests/engine gives fakes) and `engine`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import PgCluster, find_bin

from corthex.config import Settings
from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer
from corthex.emulator.storage import LocalStorage
from corthex.engine.engine import Engine
from corthex.providers.base import Provider
from corthex.testing import emulated, fast_settings, point_sdks_at
from corthex.testing.emulation import SPEED

#: the directories whose every test talks to the in-process emulator through the SDKs
EMULATED_DIRS = frozenset({"integration", "chains", "telegram", "reliability"})


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = find_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found (install Debian's postgresql: scripts/system-deps.sh)")
    cluster = PgCluster.start(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The SQLAlchemy URL of a fresh database on the session's PostgreSQL."""
    return pg_cluster.create_database()


@pytest.fixture(scope="module")
def emulator_speed() -> float:
    """How fast the emulator's batches run (a multiplier of its realistic times)."""
    return SPEED


@pytest.fixture(scope="module")
def emulator(emulator_speed: float) -> Iterator[EmulatorServer]:
    """One provider emulator per test module."""
    with emulated(emulator_speed) as server:
        yield server


@pytest.fixture
def emulator_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The official SDKs pointed at the emulator, its state fresh for the test, faults cleared after."""
    point_sdks_at(emulator, monkeypatch.setenv)
    yield
    emulator.state.clear_faults()


@pytest.fixture(scope="session")
def local_storage() -> Iterator[LocalStorage]:
    """A local Cloud Storage (gcp-storage-emulator, in memory) for Vertex AI jobs."""
    with LocalStorage() as storage:
        yield storage


@pytest.fixture
def vertex_env(emulator: EmulatorServer, local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vertex AI (google-genai `vertexai=True`) pointed at the emulator, whose jobs read and write
    the local Cloud Storage (STORAGE_EMULATOR_HOST)."""
    emulator.config.gcs_url = local_storage.url
    point_sdks_at(emulator, monkeypatch.setenv)


@pytest.fixture(autouse=True)
def _emulated(request: pytest.FixtureRequest) -> None:
    if request.path.parent.name in EMULATED_DIRS:
        request.getfixturevalue("emulator_env")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings a directory's tests share beyond the fast ones (e.g. `max_attempts=1`)."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    return fast_settings(tmp_path, **settings_overrides)


@pytest.fixture
def providers() -> dict[ProviderName, Provider] | None:
    """The engine's providers: None builds the real adapters (pointed at the emulator)."""
    return None


@pytest.fixture
async def engine(settings: Settings, providers: dict[ProviderName, Provider] | None) -> AsyncIterator[Engine]:
    async with Engine(settings, providers=providers) as e:
        yield e
