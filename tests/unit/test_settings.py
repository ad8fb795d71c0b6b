"""Settings read from the environment or a `.env` file, under their documented names."""

from __future__ import annotations

from pathlib import Path

import pytest

from corthex.config import Settings
from corthex.redaction import Redactor


def test_the_openai_webhook_secret_comes_from_a_dotenv_file_too_and_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_WEBHOOK_SECRET", raising=False)
    assert Settings().openai_webhook_secret is None
    (tmp_path / ".env").write_text("OPENAI_WEBHOOK_SECRET=whsec_from_dotenv_123\n")
    settings = Settings()
    assert settings.openai_webhook_secret == "whsec_from_dotenv_123"
    assert Redactor.from_settings(settings)("sig whsec_from_dotenv_123") == "sig [redacted]"
