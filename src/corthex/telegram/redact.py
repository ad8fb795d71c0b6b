"""Keeping the bot token out of logs, errors and replies (DESIGN.md §8).

The token is part of every Bot API URL, and httpx logs each request URL at INFO while
python-telegram-bot logs its API URL at DEBUG. So the service quiets httpx and puts a filter on
the loggers that could see the token, which rewrites any record (message and traceback) that
contains it.
"""

from __future__ import annotations

import logging

MASK = "<TELEGRAM_BOT_TOKEN>"
#: loggers whose records may carry a URL or an exception from the Bot API
GUARDED = ("telegram", "httpx", "httpx2", "httpcore", "corthex", "asyncio", "")
QUIET = ("httpx", "httpcore")  #: request-per-line loggers, kept at WARNING


def redact(text: str, token: str) -> str:
    return text.replace(token, MASK) if token else text


class TokenFilter(logging.Filter):
    """Rewrites records that contain the token; never drops a record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        if self._token in message:
            record.msg, record.args = redact(message, self._token), None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if self._token in text:
                record.exc_text = redact(text, self._token)  # formatters use exc_text when set
        if record.stack_info and self._token in record.stack_info:
            record.stack_info = redact(record.stack_info, self._token)
        return True


class LogGuard:
    """Installs the token filter on every guarded logger (a logger filter sees only records
    logged on that very logger, so each existing child gets it) and quiets httpx."""

    def __init__(self, token: str) -> None:
        self._filter = TokenFilter(token)
        self._loggers: list[logging.Logger] = []
        self._levels: dict[str, int] = {}

    def install(self) -> None:
        for logger in _guarded_loggers():
            if self._filter not in logger.filters:
                logger.addFilter(self._filter)
                self._loggers.append(logger)
        for name in QUIET:
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() < logging.WARNING:
                self._levels[name] = logger.level
                logger.setLevel(logging.WARNING)

    def remove(self) -> None:
        for logger in self._loggers:
            logger.removeFilter(self._filter)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._loggers, self._levels = [], {}


def _guarded_loggers() -> list[logging.Logger]:
    import telegram.ext  # noqa: F401 - its loggers must exist before they can be guarded

    loggers = [logging.getLogger(name) for name in GUARDED]
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in GUARDED:
            loggers.append(logger)
    return list({id(logger): logger for logger in loggers}.values())
