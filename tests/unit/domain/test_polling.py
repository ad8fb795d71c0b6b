"""The poll cadence near a batch's expected end (domain/polling.py, pure)."""

from __future__ import annotations

import pytest

from corthex.domain.polling import PollPolicy, Progress


def test_a_batch_nearly_done_is_polled_when_its_pace_says_it_ends() -> None:
    """87% done one second after creation: the rest takes ~0.15 s at that pace, so the next
    poll comes at the floor (0.25 s), not 1.5 s later (the grown interval)."""
    policy = PollPolicy(initial=1.0, factor=1.5)
    assert policy.next_interval(1.0) == 1.5  # no progress known: the interval grows as before
    assert policy.next_interval(1.0, Progress(done=2175, total=2500, elapsed=1.0)) == 0.25
    # half done after 4 s: the end is 4 s away, later than the grown 1.5 s: growth as before
    assert policy.next_interval(1.0, Progress(done=1250, total=2500, elapsed=4.0)) == 1.5
    # a third done after 20 s of a 40 s interval: 40 s left, sooner than the grown 60 s
    assert policy.next_interval(40.0, Progress(done=1000, total=3000, elapsed=20.0)) == 40.0
    assert PollPolicy.expected_in(Progress(done=1000, total=3000, elapsed=20.0)) == 40.0


def test_near_the_end_polls_never_come_in_a_hot_loop() -> None:
    """Every request done (the provider finalizes) or the last one stalled: the wait is at
    least `soonest` and a share of the batch's age, so a long batch is polled rarely."""
    policy = PollPolicy(initial=1.0, factor=1.5, maximum=60.0, soonest=0.25, near_end_share=0.1)
    assert policy.next_interval(1.0, Progress(done=2500, total=2500, elapsed=1.2)) == 0.25
    assert policy.next_interval(60.0, Progress(done=2500, total=2500, elapsed=300.0)) == 30.0
    stalled = Progress(done=9_999, total=10_000, elapsed=3600.0)  # one request left after an hour
    assert policy.next_interval(60.0, stalled) == 60.0  # its pace says 0.36 s; a tenth of its age is past the cap
    assert policy.next_interval(0.3, Progress(done=99, total=100, elapsed=2.0)) == 0.25  # never under `soonest`
    assert policy.next_interval(0.1, Progress(done=99, total=100, elapsed=2.0)) == pytest.approx(
        0.15
    )  # nor over the grown interval


def test_no_pace_to_go_by_means_the_usual_growth() -> None:
    """Nothing done yet (Anthropic may report none until late; Gemini reports no counts), an
    empty batch, no time elapsed: the interval grows as it always did."""
    policy = PollPolicy(initial=1.0, factor=2.0, maximum=5.0)
    assert policy.next_interval(2.0, Progress(done=0, total=100, elapsed=3.0)) == 4.0
    assert policy.next_interval(2.0, Progress(done=0, total=0, elapsed=3.0)) == 4.0
    assert policy.next_interval(4.0, Progress(done=5, total=10, elapsed=0.0)) == 5.0
    assert PollPolicy.expected_in(None) is None
