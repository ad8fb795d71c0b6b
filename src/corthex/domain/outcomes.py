"""What becomes of a provider's row: a final result, or another attempt (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from corthex.domain.polling import RetryPolicy
from corthex.domain.pricing import batch_cost, realtime_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import FinalResult, ProviderResult, ResultError, ResultStatus


@dataclass(frozen=True, slots=True)
class Retry:
    request_id: str
    reason: str


def settle(
    row: ProviderResult,
    *,
    provider: ProviderName,
    model: str,
    attempts: int,
    job_canceled: bool,
    policy: RetryPolicy,
    realtime: bool = False,
) -> FinalResult | Retry:
    """Decide one row: a retryable failure goes out again while attempts remain (never for a
    canceled job); anything else is final, priced at the batch rate (or the realtime rate for
    a realtime call) when it succeeded."""
    if row.retryable and not job_canceled and policy.may_retry(attempts):
        error = row.error
        return Retry(row.wire_id, f"{error.type}: {error.message}" if error else row.status.value)
    if row.status is not ResultStatus.SUCCEEDED or row.usage is None:
        return FinalResult(
            row.wire_id,
            row.status,
            row.content,
            row.model or model,
            row.usage,
            error=row.error,
            finish_reason=row.finish_reason,
        )
    full = realtime_cost(provider, model, row.usage)
    return FinalResult(
        row.wire_id,
        row.status,
        row.content,
        row.model or model,
        row.usage,
        cost_usd=full if realtime or full is None else batch_cost(provider, model, row.usage),
        realtime_cost_usd=full,
        finish_reason=row.finish_reason,
    )


_MISSING = {
    ResultStatus.EXPIRED: ("batch_expired", "the batch expired before this request ran"),
    ResultStatus.CANCELED: ("batch_cancelled", "the batch was cancelled before this request ran"),
}


def missing_row(
    wire_id: str, *, ended_as: ResultStatus | None, batch_error: str | None, retryable: bool
) -> ProviderResult:
    """The stand-in for a request that the ended batch returned nothing for: expired or
    cancelled with the batch, failed with it, or simply missing (worth another attempt)."""
    if ended_as in _MISSING:
        kind, default = _MISSING[ended_as]
        return ProviderResult(wire_id, ended_as, error=ResultError(kind, batch_error or default, True))
    if batch_error:
        return ProviderResult(wire_id, ResultStatus.FAILED, error=ResultError("batch_failed", batch_error, retryable))
    return ProviderResult(
        wire_id,
        ResultStatus.FAILED,
        error=ResultError("missing_result", "the provider returned no result for this request", True),
    )
