"""What becomes of a provider's row: a final result, or another attempt (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from corthex.domain.polling import RetryPolicy
from corthex.domain.pricing import batch_cost, realtime_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import ErrorType, FinalResult, ProviderResult, ResultError, ResultStatus, Usage
from corthex.domain.structured import check_answer


@dataclass(frozen=True, slots=True)
class Retry:
    request_id: str
    reason: str
    provider: ProviderName | None = None  #: a fallback: sent to this provider, its attempts counted anew


def settle(
    row: ProviderResult,
    *,
    provider: ProviderName,
    model: str,
    attempts: int,
    job_canceled: bool,
    policy: RetryPolicy,
    realtime: bool = False,
    schema: dict[str, Any] | None = None,
    one_vector: bool = False,
    fallback: ProviderName | None = None,
) -> FinalResult | Retry:
    """Decide one row: a retryable failure goes out again while attempts remain (never for a
    canceled job); anything else is final. Every row with usage was billed, failed or not (an
    answer the budget left empty, a safety block, an answer that does not match the schema), so
    each is priced at the batch rate (or the realtime rate for a realtime call). With `schema`,
    an answer must parse and match it. `one_vector`: the embedding request gave one string, so its
    answer is that string's vector, not a list of one. `fallback`: the provider a retryable
    failure goes to once the attempts here are used up (the model's route)."""
    row, parsed = structured(row, schema)
    if row.retryable and not job_canceled:
        error = row.error
        reason = f"{error.type}: {error.message}" if error else row.status.value
        if policy.may_retry(attempts):
            return Retry(row.wire_id, reason)
        if fallback is not None and fallback != provider:
            return Retry(row.wire_id, f"{reason} (on {provider}; sent to {fallback})", fallback)
    succeeded = row.status is ResultStatus.SUCCEEDED
    full = realtime_cost(provider, model, row.usage) if row.usage is not None else None
    return FinalResult(
        row.wire_id,
        row.status,
        row.content,
        row.model or model,
        row.usage,
        cost_usd=full if realtime or full is None or row.usage is None else batch_cost(provider, model, row.usage),
        realtime_cost_usd=full,
        error=None if succeeded else row.error,
        finish_reason=row.finish_reason,
        parsed=parsed,
        has_parsed=schema is not None,
        tool_calls=row.tool_calls,
        raw=row.raw,
        embedding=row.embedding[0] if one_vector and row.embedding else row.embedding,
        cache_saving_usd=cache_saving(provider, model, row.usage, realtime=realtime),
    )


def cache_saving(provider: ProviderName, model: str, usage: Usage | None, *, realtime: bool) -> float | None:
    """What prompt caching saved on this answer: its price with every cached or written token
    priced as plain input, minus its price (cached reads × (input − read rate), less writes ×
    (write rate − input)). None when it used no cache, or its model has no known price."""
    if usage is None or not (usage.cached_tokens or usage.cache_write_tokens):
        return None
    plain = replace(usage, cached_tokens=0, cache_write_tokens=0, cache_write_1h_tokens=0)
    price = realtime_cost if realtime else batch_cost
    paid, uncached = price(provider, model, usage), price(provider, model, plain)
    return None if paid is None or uncached is None else uncached - paid


def structured(row: ProviderResult, schema: dict[str, Any] | None) -> tuple[ProviderResult, Any]:
    """(the row, the parsed answer): an answer that does not parse or match `schema` becomes a
    failure `invalid_output` with the validator's message, worth another attempt."""
    if schema is None or row.status is not ResultStatus.SUCCEEDED:
        return row, None
    checked = check_answer(schema, row.content)
    if checked.ok:
        return row, checked.value
    error = ResultError(ErrorType.INVALID_OUTPUT, checked.error or "the answer does not match the schema", True)
    return replace(row, status=ResultStatus.FAILED, error=error), None


_MISSING = {
    ResultStatus.EXPIRED: (ErrorType.EXPIRED, "the batch expired before this request ran"),
    ResultStatus.CANCELED: (ErrorType.CANCELED, "the batch was cancelled before this request ran"),
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
        return ProviderResult(
            wire_id, ResultStatus.FAILED, error=ResultError(ErrorType.BATCH_FAILED, batch_error, retryable)
        )
    return ProviderResult(
        wire_id,
        ResultStatus.FAILED,
        error=ResultError(ErrorType.MISSING_RESULT, "the provider returned no result for this request", True),
    )
