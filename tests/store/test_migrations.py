"""The Alembic migrations build exactly the schema that store/tables.py describes, on both
databases: a column or index added to one and not the other fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from corthex.store.sql import SqlStore
from corthex.store.tables import metadata


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_migrations_build_the_schema_the_tables_describe(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = await SqlStore.open(url)  # migrates to head
    await store.close()

    def differences(conn: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(conn), metadata)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == []
