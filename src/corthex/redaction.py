"""Secrets never leave the process: every key and token the server knows is cut out of event
messages, error bodies, Telegram errors and log lines (defence in depth: nothing should carry
them anyway). One mask and one log filter for the server and the Telegram bot alike."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corthex.config import Settings

SECRET_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "TELEGRAM_BOT_TOKEN",
    "OPENAI_WEBHOOK_SECRET",
    "CORTHEX_API_TOKEN",
)
MIN_SECRET_CHARS = 6  # shorter values would blank out ordinary words
MASK = "[redacted]"


#: A run of this many characters of a secret is masked wherever it stands, also split by line
#: breaks or spaces (an error page may wrap a key across lines, or cut it).
FRAGMENT_CHARS = 10
_WHITESPACE = frozenset(" \t\r\n\f\v")


class Redactor:
    """Masks secrets by value: whole, wrapped across lines, or as fragments of FRAGMENT_CHARS or
    more, whatever shape the text around them has."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        unique = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        self._secrets = sorted(unique, key=len, reverse=True)  # longest first: no partial leftovers
        self._windows = {s[i : i + FRAGMENT_CHARS] for s in unique for i in range(len(s) - FRAGMENT_CHARS + 1)}

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret-looking setting (also those read from a .env file) and variable."""
        fields = [v for k, v in settings.model_dump().items() if isinstance(v, str) and _secret_name(k)]
        return cls([*fields, *(os.environ.get(name) for name in SECRET_VARIABLES)])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return self._mask_fragments(text) if self._windows else text

    def _mask_fragments(self, text: str) -> str:
        # The text without whitespace, and where each of its characters stands in `text`.
        where = [i for i, ch in enumerate(text) if ch not in _WHITESPACE]
        compact = "".join(text[i] for i in where)
        hidden: set[int] = set()
        for start in range(len(compact) - FRAGMENT_CHARS + 1):
            if compact[start : start + FRAGMENT_CHARS] in self._windows:
                hidden.update(where[start : start + FRAGMENT_CHARS])
        return _masked(text, hidden) if hidden else text


def _masked(text: str, hidden: set[int]) -> str:
    """`text` with each run of hidden characters (and the whitespace inside a run) as one MASK."""
    out: list[str] = []
    in_run = False
    for i, ch in enumerate(text):
        if i in hidden:
            if not in_run:
                out.append(MASK)
            in_run = True
        elif in_run and ch in _WHITESPACE and _hidden_ahead(text, i, hidden):
            continue
        else:
            in_run = False
            out.append(ch)
    return "".join(out)


def _hidden_ahead(text: str, i: int, hidden: set[int]) -> bool:
    """Whether the next non-whitespace character after position `i` is hidden."""
    for j in range(i, len(text)):
        if text[j] not in _WHITESPACE:
            return j in hidden
    return False


_active: Redactor | None = None


def configure(settings: Settings) -> Redactor:
    """Make the secrets of `settings` (and the environment) the ones every layer masks."""
    global _active
    _active = Redactor.from_settings(settings)
    return _active


def mask_secrets(text: str) -> str:
    """`text` with every known secret masked: what the store, the providers' errors and the
    logs use, whoever configured the process (the environment alone when nobody did)."""
    global _active
    if _active is None:
        _active = Redactor(os.environ.get(name) for name in SECRET_VARIABLES)
    return _active(text)


def _secret_name(name: str) -> bool:
    return any(word in name for word in ("token", "key", "secret", "password"))


class RedactingFilter(logging.Filter):
    """A handler filter: formats the record once, then masks the secrets in the message."""

    def __init__(self, redact: Callable[[str], str]) -> None:
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


def install_log_redaction(redact: Callable[[str], str] = mask_secrets) -> RedactingFilter:
    """Put the filter on every handler that the process's log records pass through (every entry
    point does this first: the CLI, the worker and the server alike)."""
    filt = RedactingFilter(redact)
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(filt)
    return filt


def safe_database_url(url: str) -> str:
    """A database URL fit to print: its password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show only its scheme
        return url.split("://", 1)[0] + "://…"
