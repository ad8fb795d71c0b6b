"""Per-request outcomes, as providers report them and as the store keeps them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corthex.errors import UsageError


class FinishReason(enum.StrEnum):
    """Why the model stopped, in one vocabulary for every provider (DESIGN.md §7)."""

    STOP = "stop"  #: a natural end (or a stop sequence)
    LENGTH = "length"  #: the output budget (`max_output_tokens`) ran out
    CONTENT_FILTER = "content_filter"  #: a safety system cut or blocked the answer
    REFUSAL = "refusal"  #: the model declined
    TOOL_CALLS = "tool_calls"  #: the model asked for a tool
    OTHER = "other"  #: any other reason a provider gives


class ResultStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"  #: the model answered
    FAILED = "failed"  #: the provider refused or failed this request
    CANCELED = "canceled"  #: canceled before it ran
    EXPIRED = "expired"  #: the batch's window ran out before it ran


#: what `corthex retry` sends again unless told otherwise
RETRY_BY_DEFAULT = (ResultStatus.FAILED, ResultStatus.EXPIRED)


def retry_statuses(names: str | Sequence[str]) -> tuple[ResultStatus, ...]:
    """The statuses a retry resends, from "failed,expired" or ["failed", "expired"].

    :raises UsageError: an unknown status, `succeeded`, or none at all."""
    words = names.split(",") if isinstance(names, str) else list(names)
    chosen: list[ResultStatus] = []
    for word in (w.strip().lower() for w in words):
        if word not in {s.value for s in ResultStatus} or word == ResultStatus.SUCCEEDED:
            raise UsageError(f"cannot retry status {word!r}: choose from failed, expired, canceled")
        if ResultStatus(word) not in chosen:
            chosen.append(ResultStatus(word))
    if not chosen:
        raise UsageError("name at least one status to retry: failed, expired or canceled")
    return tuple(chosen)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts. `input_tokens` includes cached ones; the cache counts are parts of it.
    `output_tokens` is every billed output token; `reasoning_tokens` is the thinking part of it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0  #: cache reads
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0  #: included in `output_tokens`
    #: the 1-hour cache writes among `cache_write_tokens` (Anthropic: priced higher; not stored,
    #: the cost is)
    cache_write_1h_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
        )


@dataclass(frozen=True, slots=True)
class ResultError:
    type: str  #: e.g. rate_limit, server_error, invalid_request, batch_expired, batch_cancelled
    message: str
    retryable: bool = False


#: The wire id of a result row that came back without its key (Gemini inline answers can lose
#: their metadata, python-genai#2008): the collector settles it on its own, never the batch.
UNKEYED = ""


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """One row of a provider's results, keyed by the wire id we sent."""

    wire_id: str
    status: ResultStatus
    content: str | None = None
    model: str | None = None
    usage: Usage | None = None
    error: ResultError | None = None
    finish_reason: FinishReason | None = None  #: None when there was no answer

    @property
    def retryable(self) -> bool:
        return self.status is not ResultStatus.SUCCEEDED and bool(self.error and self.error.retryable)


def retryable_status_code(code: int) -> bool:
    """HTTP codes worth another attempt: rate limits, timeouts, server errors."""
    return code in (408, 409, 429) or code >= 500


@dataclass(frozen=True, slots=True)
class FinalResult:
    """A request's one final outcome, as the store records it."""

    request_id: str
    status: ResultStatus
    content: str | None = None
    model: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    realtime_cost_usd: float | None = None
    error: ResultError | None = None
    finish_reason: FinishReason | None = None
    parsed: Any = None  #: the structured answer (JSON value) when the request had a schema
    has_parsed: bool = False  #: whether `parsed` is set (a JSON null is a value too)
