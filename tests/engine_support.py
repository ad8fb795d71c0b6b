"""For tests that run the engine against the emulator: settings (a fresh SQLite file, fast polls) and a mixed job."""

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


MODELS = ["gpt-5-mini", "gpt-5-nano", "claude-sonnet-4-6", "claude-haiku-4-5", "gemini-2.5-flash", "gemini-2.5-pro"]


def mixed(n: int, prefix: str = "q") -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"{prefix}{i}",
            "model": MODELS[i % len(MODELS)],
            "prompt": f"question {i}",
            "system": "be brief",
            "max_output_tokens": 64,
        }
        for i in range(n)
    ]
