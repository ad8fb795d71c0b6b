"""The store's connection: the database engine, its dialect's statements, locks and upkeep,
shared by every section of the store (`SqlStore` composes them)."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Self

import orjson
from sqlalchemy import ARRAY, String, any_, event, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from corthex.store import migrate
from corthex.store.rows import error_text
from corthex.store.tables import batches, requests


class SqlBase:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect and bring the schema up to date."""
        store = cls.connect(url)
        await migrate.upgrade(store.engine)
        return store

    @classmethod
    def connect(cls, url: str) -> Self:
        """Connect to a database whose schema is up to date (a second connection of a process)."""
        engine = create_async_engine(url, **_engine_options(url))
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, password included (for another connection of this process only)."""
        return self.engine.url.render_as_string(hide_password=False)

    async def close(self) -> None:
        await self.engine.dispose()

    async def database_time(self) -> float:
        """Seconds since the epoch by the database server's clock (see corthex/clock.py)."""
        if self._dialect == "postgresql":
            query = text("SELECT extract(epoch FROM clock_timestamp())")
        else:  # an embedded database: its clock is this host's
            query = text("SELECT (julianday('now') - 2440587.5) * 86400.0")
        async with self.engine.connect() as conn:
            return float((await conn.execute(query)).scalar_one())

    @contextlib.asynccontextmanager
    async def held(self, name: str) -> AsyncIterator[None]:
        """Hold the lock `name` across processes for the block. PostgreSQL: a transaction-level
        advisory lock (released with the transaction, also if the process dies). SQLite: nothing;
        one process at a time is the expected use (see README)."""
        if self._dialect != "postgresql":
            yield
            return
        key = zlib.crc32(name.encode()) - 2**31  # the same in every process (hash() is salted)
        async with self.engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(key)))
            yield

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return dialect.insert(table)

    def _driver_insert(self, table: Any) -> str:
        """`INSERT … ON CONFLICT DO NOTHING` of every column of `table`, compiled once into the
        driver's own SQL: an executemany of plain tuples then skips SQLAlchemy's per-row
        parameter processing, most of the Python cost of writing a chunk of results."""
        columns = [c.name for c in table.columns]
        statement = self._insert(table).on_conflict_do_nothing()
        compiled = statement.compile(dialect=self.engine.dialect, column_keys=columns)
        if list(compiled.positiontup or ()) != columns:  # the tuples are built in column order
            raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
        return str(compiled.string)

    def _among(self, ids: Sequence[str]) -> Any:
        """`requests.id IN ids` with the ids as one bound value (a JSON array on SQLite, an array
        on PostgreSQL), looked up by primary key: the statement is the same whatever the count,
        instead of thousands of placeholders rendered and bound for every chunk."""
        if self._dialect == "postgresql":
            return requests.c.id == any_(literal(list(ids), ARRAY(String)))
        listed = func.json_each(literal(orjson.dumps(list(ids)).decode())).table_valued("value")
        return requests.c.id.in_(select(listed.c.value))

    async def _update_batch(self, batch_id: str, **values: Any) -> None:
        if values.get("error") is not None:
            values["error"] = error_text(values["error"])
        async with self.engine.begin() as conn:
            await conn.execute(update(batches).where(batches.c.id == batch_id).values(**values))

    async def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database and empty it (after a collection, its largest
        write). Waits a second at most for other connections: a busy database is checkpointed
        next time (and by SQLite itself every 10,000 pages)."""
        if self._dialect != "sqlite":
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


BUSY_TIMEOUT_MS = 60_000  #: how long an SQLite write waits for another's lock
CHECKPOINT_WAIT_MS = 1_000  #: … and a checkpoint after a collection


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


#: WAL without an fsync per commit; checkpoints every 10,000 pages (40 MB of WAL) rather than
#: SQLite's 1,000: collection commits a chunk of results every few milliseconds, and each
#: checkpoint copies pages back into the database and syncs it. Once checkpointed, the WAL file
#: is cut back to 4 MB (journal_size_limit; SQLite would keep it at its largest): a disk that
#: filled up must not need 40 MB free before the worker can write again.
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "wal_autocheckpoint=10000",
    "journal_size_limit=4194304",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "foreign_keys=ON",
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
