"""The command line as a user types it, for the CLI tests of this folder: Typer's runner in this
process, with a fresh database and data folders per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import corthex.cli
from corthex.cli import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - returns the runner
    monkeypatch.setenv("CORTHEX_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CORTHEX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CORTHEX_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("COLUMNS", "200")
    # the CLI's consoles read COLUMNS when the module is first imported, whichever test did that
    monkeypatch.setattr(corthex.cli.console, "width", 200)

    def invoke(*words: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(words))
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    return invoke
