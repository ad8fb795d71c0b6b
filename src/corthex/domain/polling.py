"""When to poll a batch next, and when to give up on it (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


def failing_for(delay: Callable[[int], float], failures: int) -> float:
    """Seconds from the first of `failures` failed calls in a row to the last: the backoffs
    between them, `delay(n)` after the n-th."""
    return sum(delay(n) for n in range(1, failures))


def doubled(first: float, failures: int, cap: float) -> float:
    """`first` after the first failure, doubling with each one after it, up to `cap`. The
    exponent is bounded: 2 ** 1100 times a float overflows, and a zero backoff (counted up to
    _MOST_SUBMIT_FAILURES) or a store failing for a day reaches such counts."""
    return min(cap, first * 2.0 ** min(max(0, failures - 1), _MOST_DOUBLINGS))


_MOST_DOUBLINGS = 1000  #: 2.0 ** 1000 is finite; past the cap anyway for any sane first step


@dataclass(frozen=True, slots=True)
class Progress:
    """What a status call said of a running batch: how far along it is, and since when."""

    done: int  #: requests with a result so far (succeeded or failed)
    total: int  #: requests in the batch
    elapsed: float  #: seconds since the batch was created


@dataclass(frozen=True, slots=True)
class PollPolicy:
    initial: float = 1.0  #: seconds before the first poll after submission
    factor: float = 1.5  #: each quiet poll waits this much longer
    maximum: float = 60.0  #: cap on the interval
    #: Near an expected end, polls come no closer than this many seconds …
    soonest: float = 0.25
    #: … nor than this share of the batch's age: a batch whose last requests stall (or whose
    #: provider finalizes for long) is polled more and more rarely, never in a hot loop, and
    #: its end is noticed at most this share of its run time late
    near_end_share: float = 0.1
    max_failures: int = 8  #: consecutive failed status calls before the batch is given up …
    #: … and only once they span this long: a provider outage of minutes must not end a running
    #: batch (its requests would go out again while it still runs: paid twice)
    unreachable_for: float = 3600.0
    max_age: float = 50 * 3600.0  #: a batch older than this is given up (Gemini expires at 48 h)

    def next_interval(self, current: float | None, progress: Progress | None = None) -> float:
        """Seconds to the next poll: `current` grown by `factor` up to `maximum`, or sooner
        when the batch's `progress` says its end is near: at the time its own pace (requests
        done over the time they took) puts the end, or once every request is done (only the
        provider's finalizing is left), after the shortest wait allowed."""
        grown = self.initial if current is None or current <= 0 else min(self.maximum, current * self.factor)
        expected = self.expected_in(progress)
        if progress is None or expected is None or expected >= grown:
            return grown
        return min(grown, max(expected, self.soonest, self.near_end_share * progress.elapsed))

    @staticmethod
    def expected_in(progress: Progress | None) -> float | None:
        """Seconds until the batch is expected to have every request done, at the pace it has
        kept so far; 0 when they are; None while none is (no pace to go by)."""
        if progress is None or progress.total <= 0 or progress.done <= 0 or progress.elapsed <= 0:
            return None
        left = max(progress.total - progress.done, 0)
        return progress.elapsed * left / progress.done

    def failure_delay(self, failures: int) -> float:
        """Backoff after a failed status call: doubles, capped at the maximum interval."""
        return doubled(self.initial, failures, self.maximum)

    def failing_for(self, failures: int) -> float:
        """Seconds from the first of `failures` consecutive failed calls to the last (the backoffs between)."""
        return failing_for(self.failure_delay, failures)

    def unreachable(self, failures: int) -> bool:
        """Whether `failures` consecutive failed calls mean the provider is out of reach for good."""
        return failures >= self.max_failures and self.failing_for(failures) >= self.unreachable_for

    def gives_up(self, *, failures: int, submitted_at: datetime, now: datetime) -> str | None:
        """A reason to give the batch up, or None to keep polling."""
        if self.unreachable(failures):
            return f"provider unreachable after {failures} failed status calls"
        if now - submitted_at > timedelta(seconds=self.max_age):
            return f"batch still open after {self.max_age / 3600:.1f} h"
        return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3  #: attempts per request, counting the first
    submit_backoff: float = 2.0  #: seconds before a failed submission is tried again (doubles)
    submit_backoff_max: float = 300.0
    max_submit_failures: int = 6  #: failed creations before the requests fail for good …
    #: … and, when the provider was out of reach rather than refusing (429, 5xx, a timeout, a
    #: dropped connection, a full local disk), only once they span this long: as patient as
    #: polling (PollPolicy.unreachable_for), an outage of minutes is waited out
    unreachable_for: float = 3600.0

    def may_retry(self, attempts: int) -> bool:
        return attempts < self.max_attempts

    def submit_delay(self, failures: int) -> float:
        return doubled(self.submit_backoff, failures, self.submit_backoff_max)

    def submission_gives_up(self, failures: int, *, retryable: bool) -> bool:
        """Whether `failures` failed creations in a row end their requests. A refusal (400, 401,
        404: asking again will not help) after `max_submit_failures`; an outage only once the
        failures also span `unreachable_for` (the rule of PollPolicy.unreachable)."""
        if failures < self.max_submit_failures:
            return False
        return not retryable or failing_for(self.submit_delay, failures) >= self.unreachable_for

    def submit_failures_allowed(self, *, retryable: bool) -> int:
        """The number of failed creations in a row at which requests fail for good (the store
        counts them per request)."""
        failures = self.max_submit_failures
        if not retryable:
            return failures
        span = failing_for(self.submit_delay, failures)
        while span < self.unreachable_for and failures < _MOST_SUBMIT_FAILURES:
            span += self.submit_delay(failures)  # the backoff after this failure, before the next
            failures += 1
        return failures


#: A bound on the patience count, should the backoff be zero (a span that never grows).
_MOST_SUBMIT_FAILURES = 10_000
