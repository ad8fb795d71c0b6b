"""Cost with the batch discount from genai-prices; the fate of each provider row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from corthex.domain.budget import TYPICAL_OUTPUT_TOKENS, estimate, expected_output_tokens
from corthex.domain.outcomes import Retry, missing_row, settle
from corthex.domain.polling import PollPolicy, RetryPolicy
from corthex.domain.pricing import batch_cost, realtime_cost
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinalResult, ProviderResult, ResultError, ResultStatus, Usage

OPENAI, ANTHROPIC = ProviderName.OPENAI, ProviderName.ANTHROPIC


def test_batch_cost_is_half_the_realtime_list_price_for_every_provider() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    for provider, model in [
        (OPENAI, "gpt-5-mini"),
        (ANTHROPIC, "claude-sonnet-4-6"),
        (ProviderName.GEMINI, "gemini-2.5-flash"),
    ]:
        full = realtime_cost(provider, model, usage)
        assert full is not None and full > 0
        assert batch_cost(provider, model, usage) == pytest.approx(full / 2)


def test_gemini_batch_cache_reads_stay_at_the_standard_rate() -> None:
    # ai.google.dev pricing, Batch tab (as genai-prices records it): batch halves input and output,
    # context caching stays at the standard rate (docs/wire/costs.md). 2.5 Flash: input $0.30 ->
    # $0.15, output $2.50 -> $1.25, cache reads $0.03 in both.
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cached_tokens=500_000)
    batch = batch_cost(ProviderName.GEMINI, "gemini-2.5-flash", usage)
    assert batch == pytest.approx(0.5 * 0.15 + 0.5 * 0.03 + 1.25)
    assert batch > realtime_cost(ProviderName.GEMINI, "gemini-2.5-flash", usage) / 2


def test_anthropic_batch_1_hour_cache_writes_are_priced_at_the_1_hour_write_price() -> None:
    # claude-sonnet-4-6 batch: input $1.50, 5-minute writes $1.875, 1-hour writes $3 (2x input), per MTok
    five = Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000)
    hour = Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000)
    assert batch_cost(ANTHROPIC, "claude-sonnet-4-6", five) == pytest.approx(1.875)
    assert batch_cost(ANTHROPIC, "claude-sonnet-4-6", hour) == pytest.approx(3.0)
    assert realtime_cost(ANTHROPIC, "claude-sonnet-4-6", hour) == pytest.approx(6.0)
    mixed = Usage(input_tokens=3_000_000, cache_write_tokens=2_000_000, cache_write_1h_tokens=1_000_000)
    assert batch_cost(ANTHROPIC, "claude-sonnet-4-6", mixed) == pytest.approx(1.5 + 1.875 + 3.0)


def test_cache_reads_are_cheaper_than_fresh_input() -> None:
    fresh = realtime_cost(ANTHROPIC, "claude-sonnet-4-6", Usage(input_tokens=1_000_000))
    cached = realtime_cost(ANTHROPIC, "claude-sonnet-4-6", Usage(input_tokens=1_000_000, cached_tokens=1_000_000))
    assert fresh is not None and cached is not None and cached < fresh / 5


def test_unknown_model_has_no_cost_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert batch_cost(OPENAI, "gpt-imaginary-9", Usage(10, 10)) is None
    assert "gpt-imaginary-9" in caplog.text


def ok_row(wire_id: str = "r1") -> ProviderResult:
    return ProviderResult(wire_id, ResultStatus.SUCCEEDED, "hi", "claude-sonnet-4-6", Usage(100, 50))


def failed_row(retryable: bool, status: ResultStatus = ResultStatus.FAILED) -> ProviderResult:
    return ProviderResult("r1", status, error=ResultError("rate_limit", "slow down", retryable))


def decide(row: ProviderResult, attempts: int = 1, canceled: bool = False) -> FinalResult | Retry:
    return settle(
        row,
        provider=ANTHROPIC,
        model="claude-sonnet-4-6",
        attempts=attempts,
        job_canceled=canceled,
        policy=RetryPolicy(max_attempts=3),
    )


def test_success_is_final_and_priced() -> None:
    outcome = decide(ok_row())
    assert isinstance(outcome, FinalResult) and outcome.cost_usd and outcome.realtime_cost_usd
    assert outcome.cost_usd == pytest.approx(outcome.realtime_cost_usd / 2)


def test_retryable_failure_goes_out_again_until_attempts_run_out() -> None:
    assert isinstance(decide(failed_row(True), attempts=2), Retry)
    final = decide(failed_row(True), attempts=3)
    assert isinstance(final, FinalResult) and final.status is ResultStatus.FAILED and final.error


def test_permanent_failure_and_canceled_jobs_are_not_retried() -> None:
    assert isinstance(decide(failed_row(False)), FinalResult)
    assert isinstance(decide(failed_row(True, ResultStatus.CANCELED), canceled=True), FinalResult)


def test_missing_rows_take_the_batch_end_state() -> None:
    expired = missing_row("r1", ended_as=ResultStatus.EXPIRED, batch_error=None, retryable=True)
    assert expired.status is ResultStatus.EXPIRED and expired.retryable
    failed = missing_row("r1", ended_as=None, batch_error="model_mismatch", retryable=False)
    assert failed.status is ResultStatus.FAILED and not failed.retryable


def test_poll_interval_backs_off_to_a_cap_and_gives_up_on_stuck_batches_W6_W7() -> None:
    policy = PollPolicy(initial=1, factor=2, maximum=5, max_failures=3, unreachable_for=0, max_age=3600)
    intervals = [None]
    for _ in range(5):
        intervals.append(policy.next_interval(intervals[-1]))
    assert intervals[1:] == [1, 2, 4, 5, 5]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.gives_up(failures=0, submitted_at=start, now=start + timedelta(minutes=5)) is None
    assert "unreachable" in (policy.gives_up(failures=3, submitted_at=start, now=start) or "")
    assert "still open" in (policy.gives_up(failures=0, submitted_at=start, now=start + timedelta(hours=2)) or "")


def test_an_outage_of_minutes_is_waited_out_before_a_batch_is_given_up() -> None:
    """Giving up a running batch sends its requests again (paid twice if it still runs): the
    failures must span `unreachable_for`, however many there are."""
    policy = PollPolicy()  # 1 s doubling to a 60 s cap; 8 failures; one hour
    assert policy.failing_for(8) == 1 + 2 + 4 + 8 + 16 + 32 + 60
    assert not policy.unreachable(8) and not policy.unreachable(65)
    assert policy.unreachable(66)  # 63 s + 59 x 60 s
    assert policy.failing_for(66) >= 3600 > policy.failing_for(65)
    assert PollPolicy(unreachable_for=0).unreachable(8)


def test_submission_is_as_patient_as_polling_but_a_refusal_fails_fast() -> None:
    """A creation that failed for an outage (429, 5xx, a timeout) is tried again until the
    failures span `unreachable_for`, the polling rule; a refusal (400, 401) after
    `max_submit_failures`."""
    policy = RetryPolicy()  # 2 s doubling to a 300 s cap; 6 failures; one hour
    assert policy.submission_gives_up(6, retryable=False) and not policy.submission_gives_up(5, retryable=False)
    assert policy.submit_failures_allowed(retryable=False) == 6
    assert not policy.submission_gives_up(6, retryable=True)  # the old rule: 2 + 4 + 8 + 16 + 32 s
    assert policy.submit_failures_allowed(retryable=True) == 20  # 510 s, then 11 x 300 s
    assert RetryPolicy(unreachable_for=0).submit_failures_allowed(retryable=True) == 6
    assert RetryPolicy(submit_backoff=0).submit_failures_allowed(retryable=True) > 6  # bounded, never a hang


def test_backoffs_stay_finite_however_long_the_failures_go_on() -> None:
    """A float backoff of 0 (CORTHEX_SUBMIT_BACKOFF=0 arrives as 0.0) counts failures up to the
    10,000 bound, and a disk full for a day passes 1,000 storage failures: 2 ** 1100 times a float
    raised OverflowError (found by the type checker: `2 ** n` is not a float)."""
    assert RetryPolicy(submit_backoff=0.0).submit_failures_allowed(retryable=True) == 10_000
    assert RetryPolicy(submit_backoff=0.0).submit_delay(5_000) == 0.0
    assert RetryPolicy(submit_backoff=0.001, unreachable_for=1e9).submit_failures_allowed(retryable=True) == 10_000
    assert PollPolicy().failure_delay(1_100) == 60.0  # the cap
    assert PollPolicy(initial=0.0).unreachable(2_000) is False  # never spans the hour: keeps polling
    assert PollPolicy().failure_delay(1) == 1.0 and PollPolicy().failure_delay(3) == 4.0


def test_estimate_stays_sane_when_the_adapter_sends_the_model_maximum():
    # Anthropic requests without max_output_tokens go out with max_tokens = the model's maximum
    # (128,000 for claude-sonnet-4-6); the estimate counts a typical answer, not that.
    def req(**kw):
        return LLMRequest("q", "claude-sonnet-4-6", ProviderName.ANTHROPIC, (Message("user", "안녕"),), **kw)

    assert expected_output_tokens(req()) == TYPICAL_OUTPUT_TOKENS // 2
    assert estimate([req()]) == estimate([req(max_output_tokens=TYPICAL_OUTPUT_TOKENS)])
    # a cap over the model's maximum costs no more than the maximum
    assert expected_output_tokens(req(max_output_tokens=10_000_000)) == 128_000 // 2


def test_a_billed_failure_is_priced_like_an_answer() -> None:
    """An answer the budget left empty was billed: its cost is kept, failed or not."""
    usage = Usage(100, 512, reasoning_tokens=512)
    error = ResultError("max_output_tokens", "raise max_output_tokens")
    row = ProviderResult("r1", ResultStatus.FAILED, None, "claude-sonnet-4-6", usage, error)
    outcome = decide(row)
    assert isinstance(outcome, FinalResult) and outcome.status is ResultStatus.FAILED and outcome.error == error
    assert outcome.cost_usd == pytest.approx(batch_cost(ANTHROPIC, "claude-sonnet-4-6", usage))
    unbilled = decide(failed_row(retryable=False))
    assert isinstance(unbilled, FinalResult) and unbilled.cost_usd is None


def test_a_platform_priced_from_the_models_owner_still_gets_its_batch_discount() -> None:
    """genai-prices answers Azure's gpt-5-mini from OpenAI's list without its batch variant: the
    batch price would equal realtime (seen in the demo: Azure lines saving $0)."""
    from corthex.providers.registry import load_providers

    load_providers(None)
    usage = Usage(10_000, 2_000)
    azure, openai = ProviderName("azure"), ProviderName.OPENAI
    assert realtime_cost(azure, "gpt-5-mini", usage) == pytest.approx(realtime_cost(openai, "gpt-5-mini", usage))
    assert batch_cost(azure, "gpt-5-mini", usage) == pytest.approx(realtime_cost(azure, "gpt-5-mini", usage) / 2)
