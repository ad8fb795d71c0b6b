"""Deadlines on jobs (issue 17): reading `--deadline 2h` or a timestamp, the default margin, when
a job's requests are late, the last safe moment to move them, and what a request answered on a
faster tier would have cost in a batch (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime

from corthex.domain.pricing import batch_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import FinalResult
from corthex.errors import UsageError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE_DURATION = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+")

#: the default margin: a tenth of the time left at submission, and never less than a minute
MARGIN_SHARE = 0.10
MIN_MARGIN = 60.0

#: a conservative time for one call on a faster tier: flex may take minutes (OpenAI's flex
#: processing queues), realtime a long answer, and a 429 waits its retry-after
FAST_CALL_SECONDS = 60.0
#: the least time a move takes whatever its size: the cancel taking effect at the provider,
#: the canceled batch collected (its unanswered requests come back), a few worker rounds
FAST_FLOOR_SECONDS = 120.0


def parse_duration(text: str) -> float:
    """Seconds in `90m`, `2h`, `1d`, `1h30m` or `45s`.

    :raises UsageError: anything else, naming what was given."""
    if not _WHOLE_DURATION.fullmatch(text.lower()):
        raise UsageError(f"{text!r} is not a duration: write e.g. 90m, 2h, 1d or 1h30m")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text.lower()))
    if seconds <= 0:
        raise UsageError(f"{text!r}: a duration must be more than zero")
    return seconds


def parse_deadline(text: str, now: float) -> float:
    """The Unix time of a deadline given as a duration from `now` (`2h`) or an ISO 8601
    timestamp (`2026-12-04T09:00:00+09:00`; without a zone it is UTC).

    :raises UsageError: neither, or a timestamp already past."""
    text = text.strip()
    if _WHOLE_DURATION.fullmatch(text.lower()):
        return now + parse_duration(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"deadline {text!r} is neither a duration (90m, 2h, 1d) nor an ISO timestamp (2026-12-04T09:00:00+09:00)"
        ) from None
    when = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()
    if when <= now:
        raise UsageError(f"deadline {text!r} has already passed")
    return when


def checked_deadline(deadline: float | None, now: float) -> float | None:
    """A deadline given as a Unix time (the Python and REST APIs): it must lie ahead."""
    if deadline is not None and deadline <= now:
        raise UsageError("the deadline has already passed")
    return deadline


def job_deadline(deadline: float | str | None, margin: float | str | None, now: float) -> tuple[float, float] | None:
    """(Unix time, margin in seconds) of a job's deadline given as a Unix time, a duration
    (`2h`) or an ISO timestamp, its margin as seconds or a duration (default: `default_margin`);
    None without a deadline.

    :raises UsageError: a deadline past or unreadable, a margin without a deadline, or a
        negative margin."""
    if deadline is None:
        if margin is not None:
            raise UsageError("a deadline margin needs a deadline")
        return None
    when = parse_deadline(deadline, now) if isinstance(deadline, str) else checked_deadline(float(deadline), now)
    assert when is not None
    if margin is None:
        return when, default_margin(when, now)
    seconds = parse_duration(margin.strip()) if isinstance(margin, str) else float(margin)
    if seconds < 0:
        raise UsageError("the deadline margin cannot be negative")
    return when, seconds


def default_margin(deadline: float, now: float) -> float:
    """The margin kept before a deadline when the user gives none: a tenth of the time left
    (the faster tier needs time too, and a prediction made hours ahead is less sure than one
    made minutes ahead), at least a minute (the realtime calls of a small job and a few worker
    rounds)."""
    return max(MARGIN_SHARE * (deadline - now), MIN_MARGIN)


def is_late(predicted_end: float, deadline: float, margin: float) -> bool:
    """Whether a batch expected to end at `predicted_end` misses the deadline with its margin."""
    return predicted_end + margin > deadline


def fast_estimate(requests: int, concurrency: int) -> float:
    """Seconds to answer `requests` on flex or realtime at `concurrency` calls in flight: rounds
    of `FAST_CALL_SECONDS`, never less than `FAST_FLOOR_SECONDS` (read at the call: a
    compressed benchmark scales them)."""
    rounds = math.ceil(max(requests, 0) / max(concurrency, 1))
    return max(FAST_FLOOR_SECONDS, rounds * FAST_CALL_SECONDS)


def last_safe_moment(deadline: float, margin: float, requests: int, concurrency: int) -> float:
    """The latest time `requests` still unanswered can leave their batch and be answered on a
    faster tier before the deadline with its margin. Waiting in the batch until then costs
    nothing: a cancel keeps what the batch answered, and all it answers meanwhile is at half
    price."""
    return deadline - margin - fast_estimate(requests, concurrency)


def must_move(now: float, deadline: float, margin: float, requests: int, concurrency: int) -> bool:
    """Whether a late batch's (or a late group's) `requests` must go faster now: its last safe
    moment has come."""
    return now >= last_safe_moment(deadline, margin, requests, concurrency)


def with_batch_price(final: FinalResult, provider: ProviderName, model: str) -> FinalResult:
    """A result answered on a faster tier (and priced at it), with what it would have cost in a
    batch beside: the job summary says what the deadline cost over all-batch."""
    usage = final.usage
    in_batch = batch_cost(provider, model, usage) if usage is not None else None
    return replace(final, batch_cost_usd=in_batch)
