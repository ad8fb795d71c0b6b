"""Settings read from the environment or a `.env` file, under their documented names."""

from __future__ import annotations

from pathlib import Path

import pytest

from corthex.config import Settings, load_settings
from corthex.errors import UsageError
from corthex.providers import check_base_urls
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


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("CORTHEX_TIMEZONE", "Mars/Olympus", "CORTHEX_TIMEZONE='Mars/Olympus': unknown time zone"),
        ("CORTHEX_POLL_MAX", "abc", "CORTHEX_POLL_MAX='abc': Input should be a valid number"),
        ("CORTHEX_LEASE_SECONDS", "", "CORTHEX_LEASE_SECONDS='': Input should be a valid number"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    variable: str, value: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, item 11: an invalid time zone used to be accepted, then gave tracebacks, HTTP 500s
    and a chain stuck in `running`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(UsageError) as refused:
        load_settings()
    assert said in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("url", ["http://[::1", "127.0.0.1:8765/openai/v1", "ftp://example.com", "http://:80/v1"])
def test_a_malformed_base_url_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(
        UsageError, match=r"OPENAI_BASE_URL='.*' is not an http\(s\) URL: e.g. OPENAI_BASE_URL=https://"
    ):
        check_base_urls({"OPENAI_BASE_URL": url})


def test_right_base_urls_pass() -> None:
    check_base_urls(
        {
            "OPENAI_BASE_URL": "http://127.0.0.1:8765/openai/v1",
            "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
            "GOOGLE_GEMINI_BASE_URL": "http://[::1]:8765/gemini",
        }
    )
