"""Deadlines (issue 17): reading them, the default margin, lateness and the price at each tier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corthex.domain.deadlines import (
    MIN_MARGIN,
    default_margin,
    is_late,
    job_deadline,
    parse_deadline,
    parse_duration,
    with_batch_price,
)
from corthex.domain.requests import ProviderName
from corthex.domain.results import FinalResult, ResultStatus, Usage
from corthex.errors import UsageError

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90m", 5400), ("2h", 7200), ("1d", 86400), ("45s", 45), ("1h30m", 5400), ("1.5h", 5400), (" 2H ", 7200)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text.strip()) == seconds
    assert parse_deadline(text, NOW) == NOW + seconds


@pytest.mark.parametrize("text", ["", "2", "two hours", "2 시간", "-1h", "0m", "2w"])
def test_what_is_not_a_deadline_is_refused_clearly(text: str) -> None:
    with pytest.raises(UsageError, match="duration|deadline"):
        parse_deadline(text, NOW)


def test_timestamps_with_a_zone_or_in_utc() -> None:
    assert parse_deadline("2026-12-03T23:00:00+09:00", NOW) == NOW + 2 * 3600
    assert parse_deadline("2026-12-03T14:00:00", NOW) == NOW + 2 * 3600


def test_a_past_timestamp_is_refused() -> None:
    with pytest.raises(UsageError, match="already passed"):
        parse_deadline("2026-12-03T11:00:00Z", NOW)


def test_the_default_margin_is_a_tenth_of_the_time_left_and_at_least_a_minute() -> None:
    assert default_margin(NOW + 7200, NOW) == 720
    assert default_margin(NOW + 300, NOW) == MIN_MARGIN


def test_late_means_the_predicted_end_plus_the_margin_passes_the_deadline() -> None:
    assert not is_late(NOW + 100, NOW + 200, 50)
    assert is_late(NOW + 160, NOW + 200, 50)


def test_a_result_on_a_faster_tier_keeps_its_price_and_gets_its_batch_price_beside() -> None:
    final = FinalResult("w1", ResultStatus.SUCCEEDED, "답", "gpt-4.1-mini", Usage(1000, 500), cost_usd=1.0)
    priced = with_batch_price(final, ProviderName("openai"), "gpt-4.1-mini")
    assert priced.cost_usd == 1.0 and priced.batch_cost_usd is not None and 0 < priced.batch_cost_usd < 0.01
    assert with_batch_price(FinalResult("w2", ResultStatus.FAILED), ProviderName("openai"), "m").batch_cost_usd is None


def test_a_job_s_deadline_from_each_form() -> None:
    assert job_deadline(None, None, NOW) is None
    assert job_deadline("2h", None, NOW) == (NOW + 7200, 720)
    assert job_deadline("2h", "5m", NOW) == (NOW + 7200, 300)
    assert job_deadline(NOW + 600, 30, NOW) == (NOW + 600, 30)
    with pytest.raises(UsageError, match="needs a deadline"):
        job_deadline(None, "5m", NOW)
    with pytest.raises(UsageError, match="already passed"):
        job_deadline(NOW - 1, None, NOW)
    with pytest.raises(UsageError, match="negative"):
        job_deadline("1h", -5, NOW)
