"""Settings that keep an engine's rounds short: a fresh SQLite file, polls every 50 ms."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine

from corthex.config import Settings
from corthex.store.migrate import alembic_config

#: the fast values, as `Settings` fields (the one source of both forms below)
FAST: dict[str, Any] = {
    "poll_initial": 0.05,
    "poll_max": 0.3,
    "idle_recheck": 0.2,
    "submit_backoff": 0.05,
    "provider_max_retries": 0,  # a test's fault is seen once, not hidden by an SDK retry
}

#: with providers held in memory (`FakeProvider`) every answer is there at once: poll every 5 ms
FAKE_PACE: dict[str, Any] = {"poll_initial": 0.005, "poll_max": 0.02, "idle_recheck": 0.02, "submit_backoff": 0.005}


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on a fresh SQLite file under `tmp_path` (already migrated), fast polls; `overrides` win."""
    database = tmp_path / "corthex.db"
    if not database.exists():
        shutil.copyfile(_migrated_template(), database)
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "data_dir": tmp_path / "data",
        "archive_dir": tmp_path / "archive",
        **FAST,
    }
    values.update(overrides)
    return Settings(**values)


def fast_env() -> dict[str, str]:
    """The fast values as the environment a `corthex` process reads (CORTHEX_POLL_INITIAL=…)."""
    return {f"CORTHEX_{name.upper()}": str(value) for name, value in FAST.items()}


@functools.cache
def _migrated_template() -> Path:
    """An empty database at the newest schema, made once per process: each fresh database is a
    copy of it (about 15 ms) rather than a run of every migration (about 70 ms)."""
    folder = tempfile.mkdtemp(prefix="corthex-template-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "corthex.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    finally:
        engine.dispose()
    return path
