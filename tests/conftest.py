"""Fixtures every test directory may use: a real PostgreSQL (started once per session, on
first use only; tests that need it are skipped, saying why, where its binaries are absent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_cluster import PgCluster, find_bin


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
