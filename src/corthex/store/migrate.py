"""Bring a database to the newest schema with Alembic, on an async engine."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


#: Any constant: the PostgreSQL advisory lock that lets one process at a time migrate.
MIGRATION_LOCK = 0x636F7274  # "cort"


#: Alembic keeps its migration context in module globals: one upgrade at a time per process.
_IN_PROCESS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def upgrade(engine: AsyncEngine) -> None:
    lock = _IN_PROCESS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock, engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # several workers may start at once
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))


async def revisions(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(the database's schema revision, the newest this code knows), read only: nothing migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with engine.connect() as conn:
        current = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    return current, head


async def schema_state(url: str) -> tuple[bool, str]:
    """Whether the database opens, and its schema against this code's migrations: read only
    (nothing migrated, and a SQLite file that does not exist is not created)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    if _sqlite_file_missing(parsed):
        return True, "no database file yet: it is created on first use"
    engine = create_async_engine(parsed)
    try:
        current, head = await revisions(engine)
    except Exception as exc:  # the report says what failed; doctor never crashes on it
        return False, f"cannot open: {type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    if current == head:
        return True, f"opens; migrations current ({head})"
    if current is None:
        return True, f"opens; empty (migrated to {head} on first use)"
    return False, f"opens; schema at {current}, this code expects {head}: any corthex command migrates it"


def _sqlite_file_missing(url: Any) -> bool:
    database = url.database
    sqlite = url.get_backend_name() == "sqlite"
    return bool(sqlite and database and database != ":memory:" and not Path(database).exists())
