"""Local storage failing (a full disk, a read-only mount): the whole worker backs off, as from a
provider outage, with one log line per backoff.

A full disk fails every write at once: each batch handled would download its results again,
fail to store them, fail to record its own backoff (also a write), and be due again at once —
a hot loop of downloads and tracebacks. So a local storage error pauses all of the worker's
work (no batch claimed, nothing sent) for a backoff that grows as the failures go on, and the
first round that completes after it ends the pause.
"""

from __future__ import annotations

import errno
import logging
import time

from corthex.domain.polling import PollPolicy

log = logging.getLogger(__name__)

#: OSError numbers that say the local disk cannot take the write (not a network error).
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
#: What the databases say when their disk is full or failing (SQLite's messages, PostgreSQL's
#: disk_full / io_error texts).
_DATABASE_TEXTS = ("database or disk is full", "disk i/o error", "no space left on device", "could not extend file")


def storage_failure(exc: BaseException) -> BaseException | None:
    """The local storage error behind `exc` (itself, or one it was raised from), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_storage_error(current):
            return current
        current = current.__cause__ or current.__context__
    return None


def _is_storage_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return True
    text = str(exc).lower()
    return type(exc).__module__.startswith(("sqlalchemy", "sqlite3", "asyncpg")) and any(
        part in text for part in _DATABASE_TEXTS
    )


def _short(exc: BaseException) -> str:
    """The error without the SQL statement and parameters a database error carries."""
    driver = getattr(exc, "orig", None) or exc
    return f"{type(driver).__name__}: {str(driver)[:200]}"


class StorageBackoff:
    """The worker's pause after local storage errors: the delays of a failed status call
    (PollPolicy.failure_delay), growing while the errors go on."""

    def __init__(self, policy: PollPolicy) -> None:
        self._policy = policy
        self.failures = 0
        self._until = 0.0

    def remaining(self) -> float:
        """Seconds the pause still runs (0 when there is none)."""
        return max(0.0, self._until - time.monotonic())

    def failed(self, exc: BaseException) -> None:
        """Start (or, when the pause is over, extend) the backoff; one log line per backoff,
        however many tasks met the error meanwhile."""
        if self.remaining() > 0:
            return
        self.failures += 1
        delay = self._policy.failure_delay(self.failures)
        self._until = time.monotonic() + delay
        log.error(
            "local storage failing (%s): all work pauses %.1fs (failure %d in a row)",
            _short(storage_failure(exc) or exc),
            delay,
            self.failures,
        )

    def succeeded(self) -> None:
        if self.failures:
            log.warning("local storage writable again after %d failures: work resumes", self.failures)
        self.failures = 0
