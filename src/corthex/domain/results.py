"""Per-request outcomes, as providers report them and as the store keeps them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corthex.domain.content import ToolCall
from corthex.domain.tiers import Tier
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


class ErrorType(enum.StrEnum):
    """Why a request did not succeed, in one vocabulary for every provider (docs/providers.md,
    "One vocabulary"). Each adapter maps its provider's codes here; the raw code stays beside it
    (`ResultError.code`)."""

    INVALID_REQUEST = "invalid_request"  #: the provider refused the request as malformed (400)
    AUTHENTICATION = "authentication"  #: the key is missing or wrong (401)
    PERMISSION = "permission"  #: the key may not do this (403)
    NOT_FOUND = "not_found"  #: the model or resource does not exist (404)
    REQUEST_TOO_LARGE = "request_too_large"  #: over the provider's size limit (413)
    BILLING = "billing"  #: quota or credit exhausted
    RATE_LIMIT = "rate_limit"  #: too many requests or tokens (429)
    TIMEOUT = "timeout"  #: the provider gave up waiting (408, 504)
    OVERLOADED = "overloaded"  #: the provider is overloaded (503, Anthropic 529)
    SERVER_ERROR = "server_error"  #: the provider failed (500 and other 5xx)
    CONTENT_FILTER = "content_filter"  #: a safety system blocked the prompt or the answer
    REFUSAL = "refusal"  #: the model declined
    MAX_OUTPUT_TOKENS = "max_output_tokens"  #: the output budget ran out before any answer
    NO_ANSWER = "no_answer"  #: the model stopped (or the response ended) without an answer
    INVALID_OUTPUT = "invalid_output"  #: the answer does not match the request's schema
    EXPIRED = "expired"  #: the batch's window ran out before the request ran
    CANCELED = "canceled"  #: canceled before it ran
    BATCH_FAILED = "batch_failed"  #: the whole batch failed
    MISSING_RESULT = "missing_result"  #: the ended batch returned nothing for the request
    SUBMISSION_FAILED = "submission_failed"  #: its batch could never be created
    UNKNOWN = "unknown"  #: a code no table knows (kept in `code`)


_NEUTRAL = frozenset(e.value for e in ErrorType)

#: HTTP status codes in the neutral vocabulary (every provider uses HTTP semantics).
_BY_HTTP_STATUS: dict[int, ErrorType] = {
    400: ErrorType.INVALID_REQUEST,
    401: ErrorType.AUTHENTICATION,
    402: ErrorType.BILLING,
    403: ErrorType.PERMISSION,
    404: ErrorType.NOT_FOUND,
    408: ErrorType.TIMEOUT,
    413: ErrorType.REQUEST_TOO_LARGE,
    422: ErrorType.INVALID_REQUEST,
    429: ErrorType.RATE_LIMIT,
    500: ErrorType.SERVER_ERROR,
    502: ErrorType.SERVER_ERROR,
    503: ErrorType.OVERLOADED,
    504: ErrorType.TIMEOUT,
    529: ErrorType.OVERLOADED,
}


def error_type_of_status(code: object) -> ErrorType:
    """An HTTP status code as a neutral error type (any other 4xx: invalid_request; 5xx: server_error)."""
    if not isinstance(code, int):
        return ErrorType.UNKNOWN
    if code in _BY_HTTP_STATUS:
        return _BY_HTTP_STATUS[code]
    if 400 <= code < 500:
        return ErrorType.INVALID_REQUEST
    return ErrorType.SERVER_ERROR if code >= 500 else ErrorType.UNKNOWN


def error_type_from(table: dict[str, ErrorType], raw: object, status: object = None) -> ErrorType:
    """A provider's raw error code in the neutral vocabulary: its table first, then the HTTP
    status (when there is one), else `unknown` (a new code must not break collection)."""
    if raw is not None and str(raw) in table:
        return table[str(raw)]
    if raw is not None and str(raw) in _NEUTRAL:
        return ErrorType(str(raw))  # already neutral (our own types)
    return error_type_of_status(status)


@dataclass(frozen=True, slots=True)
class ResultError:
    type: str  #: an `ErrorType` value: the same fault reads the same on every provider
    message: str
    retryable: bool = False
    code: str | None = None  #: the provider's own code (e.g. `invalid_request_error`, `code_400`), when it gave one


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
    tool_calls: tuple[ToolCall, ...] = ()  #: the calls the model asked for (finish_reason TOOL_CALLS)
    raw: dict[str, Any] | None = None  #: the provider's own result object (kept for native lines)
    #: an embedding request's answer: one vector per text, in input order
    embedding: list[list[float]] | None = None
    #: the tier that answered a single call (None: a batch row, or an adapter without tiers: realtime)
    tier: Tier | None = None

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
    tool_calls: tuple[ToolCall, ...] = ()
    raw: dict[str, Any] | None = None
    #: one vector (the request gave one string) or one per text (it gave a list)
    embedding: list[float] | list[list[float]] | None = None
    #: the tier that answered (engine/tiers.py sets it; None: the request's batch)
    tier: Tier | None = None
    #: its cost without prompt caching minus its cost: cache reads saved, less the write premium
    cache_saving_usd: float | None = None
    batch_cost_usd: float | None = None  #: answered on a faster tier: what it would have cost in a batch
