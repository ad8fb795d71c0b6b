"""Settings for tests that run the engine against the emulator: a fresh SQLite file, fast polls."""

from __future__ import annotations

from pathlib import Path

from corthex.config import Settings


def fast_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'corthex.db'}",
        data_dir=tmp_path / "data",
        archive_dir=tmp_path / "archive",
        poll_initial=0.05,
        poll_max=0.3,
        idle_recheck=0.2,
        submit_backoff=0.05,
        provider_max_retries=0,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
