"""The last safe moment to move a late batch (issue 17): a batch predicted late is left running
while its unanswered requests can still be answered on the faster tier before the deadline
with its margin (pure)."""

from __future__ import annotations

import pytest

from corthex.domain import deadlines
from corthex.domain.deadlines import fast_estimate, last_safe_moment, must_move


def test_the_fast_estimate_counts_rounds_of_calls_at_the_provider_concurrency() -> None:
    per_call = deadlines.FAST_CALL_SECONDS
    assert fast_estimate(80, 8) == max(10 * per_call, deadlines.FAST_FLOOR_SECONDS)
    assert fast_estimate(81, 8) == 11 * per_call  # a round more for the 81st
    assert fast_estimate(1000, 8) > fast_estimate(100, 8)


def test_the_fast_estimate_never_falls_below_its_floor() -> None:
    floor = deadlines.FAST_FLOOR_SECONDS
    assert fast_estimate(1, 8) == fast_estimate(0, 8) == fast_estimate(-3, 8) == floor
    assert fast_estimate(5, 0) >= floor  # no concurrency given: one call at a time, not a division by zero


def test_the_estimate_reads_its_constants_at_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compressed benchmark scales them after import."""
    monkeypatch.setattr(deadlines, "FAST_CALL_SECONDS", 0.5)
    monkeypatch.setattr(deadlines, "FAST_FLOOR_SECONDS", 2.0)
    assert fast_estimate(3, 8) == 2.0 and fast_estimate(40, 8) == 2.5


def test_a_late_batch_moves_only_once_its_last_safe_moment_has_come() -> None:
    deadline, margin = 10_000.0, 600.0
    moment = last_safe_moment(deadline, margin, 160, 8)
    assert moment == deadline - margin - 20 * deadlines.FAST_CALL_SECONDS
    assert not must_move(moment - 1, deadline, margin, 160, 8)
    assert must_move(moment, deadline, margin, 160, 8) and must_move(moment + 1, deadline, margin, 160, 8)


def test_more_unanswered_requests_move_earlier_and_fewer_later() -> None:
    deadline, margin = 50_000.0, 3600.0
    assert last_safe_moment(deadline, margin, 1000, 8) < last_safe_moment(deadline, margin, 10, 8)
    assert last_safe_moment(deadline, margin, 1000, 64) > last_safe_moment(deadline, margin, 1000, 8)


def test_a_deadline_already_too_close_moves_at_once() -> None:
    assert must_move(0.0, 120.0, 60.0, 9, 8)  # 2 minutes off, a minute's margin: no time to wait in a batch
