"""Secrets never leave the process: every key and token the server knows is cut out of event
messages, error bodies, Telegram errors and log lines (defence in depth: nothing should carry
them anyway). One mask and one log filter for the server and the Telegram bot alike."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from corthex.config import Settings

SECRET_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "TELEGRAM_BOT_TOKEN",
    "OPENAI_WEBHOOK_SECRET",
    "CORTHEX_API_TOKEN",
)
MIN_SECRET_CHARS = 6  # shorter values would blank out ordinary words
MASK = "[redacted]"


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        unique = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        self._secrets = sorted(unique, key=len, reverse=True)  # longest first: no partial leftovers

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret-looking setting (also those read from a .env file) and variable."""
        fields = [v for k, v in settings.model_dump().items() if isinstance(v, str) and _secret_name(k)]
        return cls([*fields, *(os.environ.get(name) for name in SECRET_VARIABLES)])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def _secret_name(name: str) -> bool:
    return any(word in name for word in ("token", "key", "secret", "password"))


class RedactingFilter(logging.Filter):
    """A handler filter: formats the record once, then masks the secrets in the message."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("corthex-redact")
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        masked = self.redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def install_log_redaction(redact: Redactor) -> RedactingFilter:
    """Put the filter on every handler that the server's log records pass through."""
    filt = RedactingFilter(redact)
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(filt)
    return filt
