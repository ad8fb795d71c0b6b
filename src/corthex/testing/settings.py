"""Settings that keep an engine's rounds short: a fresh SQLite file, polls every 50 ms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corthex.config import Settings

#: the fast values, as `Settings` fields (the one source of both forms below)
FAST: dict[str, Any] = {
    "poll_initial": 0.05,
    "poll_max": 0.3,
    "idle_recheck": 0.2,
    "submit_backoff": 0.05,
    "provider_max_retries": 0,  # a test's fault is seen once, not hidden by an SDK retry
}


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on a fresh SQLite file under `tmp_path`, fast polls; `overrides` win."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'corthex.db'}",
        "data_dir": tmp_path / "data",
        "archive_dir": tmp_path / "archive",
        **FAST,
    }
    values.update(overrides)
    return Settings(**values)


def fast_env() -> dict[str, str]:
    """The fast values as the environment a `corthex` process reads (CORTHEX_POLL_INITIAL=…)."""
    return {f"CORTHEX_{name.upper()}": str(value) for name, value in FAST.items()}
