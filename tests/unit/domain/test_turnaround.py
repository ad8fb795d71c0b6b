"""The turnaround predictor (issue 17, deadlines): pure, from past batches to an open batch's end."""

from __future__ import annotations

import pytest

from corthex.domain.turnaround import (
    DEFAULT_PRIOR,
    OVERDUE_FACTOR,
    PRIOR_SIZE,
    PRIORS,
    OpenBatch,
    PastBatch,
    predict,
    quantile,
    spreads,
)


def past(seconds: float, *, provider: str = "openai", model: str | None = "gpt-5-mini", size: int = 100) -> PastBatch:
    return PastBatch(provider, model, size, seconds)


HISTORY = [past(s) for s in (60, 70, 80, 90, 100, 110, 120, 130, 140, 600)]


def test_quantile_is_linear_between_order_statistics() -> None:
    assert quantile([10.0], 0.9) == 10.0
    assert quantile([0.0, 10.0], 0.5) == 5.0
    assert quantile([3.0, 1.0, 2.0], 1.0) == 3.0
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)


def test_the_same_model_s_history_gives_its_late_quantile() -> None:
    p = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=0))
    assert p.basis == "history" and p.samples == 10
    assert p.seconds == pytest.approx(quantile([float(s) for s in (60, 70, 80, 90, 100, 110, 120, 130, 140, 600)], 0.9))
    assert p.left == p.seconds
    assert p.end(1000.0) == 1000.0 + p.seconds


def test_a_larger_batch_takes_longer_but_less_than_in_proportion() -> None:
    small = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=0))
    four_times = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=400, age=0))
    assert four_times.seconds == pytest.approx(2 * small.seconds)  # sqrt(4)


def test_the_size_ratio_is_bounded() -> None:
    huge = predict([past(100, size=10)] * 3, OpenBatch("openai", "gpt-5-mini", size=1_000_000, age=0))
    assert huge.seconds == pytest.approx(100 * 8**0.5)


def test_an_old_batch_is_judged_among_the_past_batches_that_ran_as_long() -> None:
    young = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=0))
    old = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=135))
    assert old.seconds > 135
    assert old.seconds == pytest.approx(quantile([140.0, 600.0], 0.9))
    assert old.left == pytest.approx(old.seconds - 135)
    assert old.seconds > young.seconds


def test_a_batch_past_everything_seen_is_overdue() -> None:
    p = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=1000))
    assert p.seconds == pytest.approx(1000 * OVERDUE_FACTOR)
    assert p.left == pytest.approx(500)


def test_progress_pulls_the_prediction_toward_the_batch_s_own_pace() -> None:
    plain = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=50))
    nearly = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=50, done=90))
    assert nearly.seconds < plain.seconds
    assert nearly.seconds == pytest.approx(0.1 * plain.seconds + 0.9 * (50 / 0.9))
    slow = predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=100, done=10))
    assert slow.seconds > predict(HISTORY, OpenBatch("openai", "gpt-5-mini", size=100, age=100)).seconds


def test_few_batches_of_the_model_fall_back_to_the_provider_s() -> None:
    history = [past(30, model="gpt-5-nano")] * 2 + [past(300, model="gpt-4.1")] * 5
    p = predict(history, OpenBatch("openai", "gpt-5-nano", size=100, age=0))
    assert p.basis == "provider" and p.samples == 7
    enough = history + [past(30, model="gpt-5-nano")]
    assert predict(enough, OpenBatch("openai", "gpt-5-nano", size=100, age=0)).seconds == pytest.approx(30)


def test_with_no_history_the_provider_s_prior_applies() -> None:
    p = predict(HISTORY, OpenBatch("anthropic", "claude-haiku-4-5", size=PRIOR_SIZE, age=0))
    assert (p.basis, p.samples, p.seconds) == ("prior", 0, PRIORS["anthropic"])
    other = predict([], OpenBatch("some-compatible-server", "m", size=PRIOR_SIZE, age=0))
    assert other.seconds == DEFAULT_PRIOR


def test_a_prior_is_not_shrunk_for_a_small_batch_but_grows_for_a_large_one() -> None:
    """The published figures are turnarounds whatever the size (a small batch waits in the same
    queue): on the simulated day of bench/deadlines.py, priors shrunk to batches of 13..190
    requests were passed by 8 of 16 OpenAI, 11 of 12 Anthropic and 5 of 7 Gemini batches; the
    priors as given (a 90th percentile) by 0, 3 and 1."""
    small = predict([], OpenBatch("anthropic", "claude-haiku-4-5", size=20, age=0))
    assert small.seconds == PRIORS["anthropic"]
    large = predict([], OpenBatch("anthropic", "claude-haiku-4-5", size=4 * PRIOR_SIZE, age=0))
    assert large.seconds == pytest.approx(2 * PRIORS["anthropic"])


def test_other_providers_history_is_not_used() -> None:
    history = [past(5, provider="gemini", model="gemini-2.5-flash")] * 5
    p = predict(history, OpenBatch("openai", "gpt-5-mini", size=PRIOR_SIZE, age=0))
    assert p.basis == "prior"


def test_spreads_per_provider_and_model() -> None:
    found = spreads([*HISTORY, past(10, provider="anthropic", model="claude-haiku-4-5")])
    s = found[("openai", "gpt-5-mini")]
    assert (s.count, s.median, s.low, s.high) == (10, 105, 60, 600)
    assert s.p90 == pytest.approx(quantile([float(x.seconds) for x in HISTORY], 0.9))
    assert found[("anthropic", "claude-haiku-4-5")].count == 1
