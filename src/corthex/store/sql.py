"""The store: SQLAlchemy 2 (async) over SQLite (default, WAL) or PostgreSQL, in domain verbs.

`SqlStore` is composed of its sections, one module each: jobs (store/jobs.py), dispatch
(store/dispatch.py), polling (store/polling.py), collection (store/collect.py) and chains
(store/chains.py), over one connection (store/connection.py). The engine sees it through the
`Store` protocol (store/base.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from corthex.domain.records import BatchRow, RequestMeta
from corthex.errors import KeyTaken
from corthex.store.chains import ChainStore
from corthex.store.collect import CollectSection
from corthex.store.connection import BUSY_TIMEOUT_MS, CHECKPOINT_WAIT_MS
from corthex.store.deadlines import DeadlineSection
from corthex.store.dispatch import DispatchSection
from corthex.store.jobs import JobSection
from corthex.store.polling import PollingSection
from corthex.store.rows import CHUNK
from corthex.store.tables import results

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CHECKPOINT_WAIT_MS",
    "CHUNK",
    "BatchRow",
    "KeyTaken",
    "RequestMeta",
    "SqlStore",
]


class SqlStore(JobSection, DispatchSection, PollingSection, CollectSection, DeadlineSection):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.chains = ChainStore(engine, lambda table: self._insert(table).on_conflict_do_nothing())
        self._insert_results = self._driver_insert(results)
