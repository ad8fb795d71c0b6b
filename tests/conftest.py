"""Fixtures every test directory may use: a real PostgreSQL (started once per session, on
first use only; tests that need it are skipped, saying why, where its binaries are absent), and
the provider emulator with the SDKs pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_cluster import PgCluster, find_bin

from corthex.emulator import EmulatorConfig, EmulatorServer


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
def emulator() -> Iterator[EmulatorServer]:
    """One provider emulator per test module, fast (directories that need another speed override it)."""
    with EmulatorServer(EmulatorConfig(speed=0.02)) as server:
        yield server


@pytest.fixture
def emulator_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The official SDKs pointed at the emulator, its state fresh for the test, faults cleared after."""
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    emulator.state.reset()
    yield
    emulator.state.clear_faults()
