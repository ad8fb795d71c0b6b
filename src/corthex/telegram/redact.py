"""Keeping the bot token out of logs, errors and replies (DESIGN.md §8).

The token is part of every Bot API URL, and httpx logs each request URL at INFO while
python-telegram-bot logs its API URL at DEBUG. So the service quiets httpx and puts a filter on
the loggers that could see the token: the server's own `RedactingFilter` (corthex/redaction.py),
here on the loggers rather than on the handlers, so that it holds whatever handlers there are.
"""

from __future__ import annotations

import logging

from corthex.redaction import RedactingFilter, Redactor

#: loggers whose records may carry a URL or an exception from the Bot API
GUARDED = ("telegram", "httpx", "httpx2", "httpcore", "corthex", "asyncio", "")
QUIET = ("httpx", "httpcore")  #: request-per-line loggers, kept at WARNING


class LogGuard:
    """Installs the token filter on every guarded logger (a logger filter sees only records
    logged on that very logger, so each existing child gets it) and quiets httpx."""

    def __init__(self, redact: Redactor) -> None:
        self._filter = RedactingFilter(redact)
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
