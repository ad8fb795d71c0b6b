"""Bring a database to the newest schema with Alembic, on an async engine."""

from __future__ import annotations

import ast
import asyncio
import functools
import re
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
#: `revision = "0007"`, `down_revision = "0006"` (or None, or a tuple: a merge) in a migration
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


#: Any constant: the PostgreSQL advisory lock that lets one process at a time migrate.
MIGRATION_LOCK = 0x636F7274  # "cort"


#: Alembic keeps its migration context in module globals: one upgrade at a time per process.
_IN_PROCESS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def upgrade(engine: AsyncEngine) -> None:
    if await _at_newest(engine):  # every command's case: Alembic (~11 MB) is not even imported
        return
    from alembic import command

    lock = _IN_PROCESS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock, engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # several workers may start at once
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))


async def _at_newest(engine: AsyncEngine) -> bool:
    """Whether the database's schema is at this code's newest migration, read without Alembic:
    False on any doubt (no version table, an unreadable one, migrations not one plain chain),
    and Alembic decides."""
    newest = newest_revision()
    if newest is None:
        return False
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except SQLAlchemyError:  # a new database: no version table yet
        return False
    return list(found) == [newest]


@functools.cache
def newest_revision() -> str | None:
    """The one head of this code's migrations, from their `revision`/`down_revision` lines;
    None when they are not that simple (Alembic reads them then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            revision, parent = ast.literal_eval(found["revision"]), ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str | tuple)):
            return None
        revisions.add(revision)
        parents.update([parent] if isinstance(parent, str) else parent or ())
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


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
