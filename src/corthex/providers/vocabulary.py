"""Each provider's words in one vocabulary: batch statuses as `BatchState`, error codes as
`ErrorType` (docs/providers.md, "One vocabulary", has the tables with their evidence).

Pure tables and functions, no SDK import: the CLI and the API map a stored `raw_status` without
loading the SDKs (they take over a second to import). The adapters build their `ResultError`s
here, so the same fault reads the same on every provider, its raw code kept in `code`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from corthex.domain.batches import BatchState, ended_state, shown_state
from corthex.domain.records import BatchRow
from corthex.domain.requests import ProviderName
from corthex.domain.results import ErrorType, ResultError, error_type_from, error_type_of_status

B, E = BatchState, ErrorType

# --- OpenAI -----------------------------------------------------------------------------------

#: `Batch.status` (openai-python `types/batch.py`).
OPENAI_STATES: dict[str, BatchState] = {
    "validating": B.VALIDATING,
    "in_progress": B.IN_PROGRESS,
    "finalizing": B.FINALIZING,
    "cancelling": B.CANCELING,
    "completed": B.COMPLETED,
    "failed": B.FAILED,
    "expired": B.EXPIRED,
    "cancelled": B.CANCELED,
}

#: OpenAI error `type`s and `code`s: per-row error bodies, the error file's codes, Responses
#: `error.code` (openai-python `types/responses/response_error.py`). A code not listed falls
#: back to the row's HTTP status.
OPENAI_ERRORS: dict[str, ErrorType] = {
    "invalid_request_error": E.INVALID_REQUEST,
    "context_length_exceeded": E.INVALID_REQUEST,
    "invalid_prompt": E.INVALID_REQUEST,
    "authentication_error": E.AUTHENTICATION,
    "invalid_api_key": E.AUTHENTICATION,
    "permission_error": E.PERMISSION,
    "not_found_error": E.NOT_FOUND,
    "model_not_found": E.NOT_FOUND,
    "insufficient_quota": E.BILLING,
    "rate_limit_exceeded": E.RATE_LIMIT,
    "rate_limit_error": E.RATE_LIMIT,
    "server_error": E.SERVER_ERROR,
    "api_error": E.SERVER_ERROR,
    "request_timeout": E.TIMEOUT,
    "vector_store_timeout": E.TIMEOUT,
    "bio_policy": E.CONTENT_FILTER,
    "misalignment_policy_violation": E.CONTENT_FILTER,
    "image_content_policy_violation": E.CONTENT_FILTER,
    "batch_expired": E.EXPIRED,
    "batch_cancelled": E.CANCELED,
}


def openai_batch_state(raw: str, ended_as: str | None = None) -> BatchState | None:
    return OPENAI_STATES.get(raw)


def openai_error_type(error: dict[str, Any], status: object = None) -> ErrorType:
    """An OpenAI error (`{"type", "code"}`): a specific `code` first (`model_not_found` comes as
    an `invalid_request_error` with a 404), then the HTTP status, then the `type`."""
    code = error.get("code")
    if isinstance(code, str) and code in OPENAI_ERRORS:
        return OPENAI_ERRORS[code]
    if isinstance(status, int):
        return error_type_of_status(status)
    return error_type_from(OPENAI_ERRORS, error.get("type"))


def openai_error(raw: str, message: str, retryable: bool = False, *, status: object = None) -> ResultError:
    """An OpenAI error code as a `ResultError`: the neutral type, the raw code kept."""
    return ResultError(error_type_from(OPENAI_ERRORS, raw, status), message, retryable, code=raw)


# --- Anthropic --------------------------------------------------------------------------------

#: `MessageBatch.processing_status` (anthropic-sdk-python `types/messages/message_batch.py`);
#: "ended" is told apart by how it ended (`ended_state`).
ANTHROPIC_STATES: dict[str, BatchState] = {"in_progress": B.IN_PROGRESS, "canceling": B.CANCELING}

#: Anthropic error `type`s (anthropic-sdk-python `types/shared/error_type.py`, plus
#: `request_too_large` and `gateway_timeout_error` of the API's error docs).
ANTHROPIC_ERRORS: dict[str, ErrorType] = {
    "invalid_request_error": E.INVALID_REQUEST,
    "authentication_error": E.AUTHENTICATION,
    "billing_error": E.BILLING,
    "permission_error": E.PERMISSION,
    "not_found_error": E.NOT_FOUND,
    "request_too_large": E.REQUEST_TOO_LARGE,
    "rate_limit_error": E.RATE_LIMIT,
    "timeout_error": E.TIMEOUT,
    "gateway_timeout_error": E.TIMEOUT,
    "api_error": E.SERVER_ERROR,
    "overloaded_error": E.OVERLOADED,
    "conflict_error": E.INVALID_REQUEST,
    "memory_precondition_failed_error": E.INVALID_REQUEST,
    "memory_path_conflict_error": E.INVALID_REQUEST,
}


def anthropic_batch_state(raw: str, ended_as: str | None = None) -> BatchState | None:
    """An ended batch is completed, canceled or expired by what its collection found."""
    return ended_state(ended_as) if raw == "ended" else ANTHROPIC_STATES.get(raw)


def anthropic_error(raw: str, message: str, retryable: bool = False, *, status: object = None) -> ResultError:
    """An Anthropic error `type` as a `ResultError`: the neutral type, the raw one kept."""
    return ResultError(error_type_from(ANTHROPIC_ERRORS, raw, status), message, retryable, code=raw)


# --- Gemini -----------------------------------------------------------------------------------

#: Every google-genai `types.JobState` member (the REST API says BATCH_STATE_*).
GEMINI_STATES: dict[str, BatchState] = {
    "JOB_STATE_UNSPECIFIED": B.QUEUED,
    "JOB_STATE_QUEUED": B.QUEUED,
    "JOB_STATE_PENDING": B.QUEUED,
    "JOB_STATE_RUNNING": B.IN_PROGRESS,
    "JOB_STATE_PAUSED": B.IN_PROGRESS,
    "JOB_STATE_UPDATING": B.IN_PROGRESS,
    "JOB_STATE_CANCELLING": B.CANCELING,
    "JOB_STATE_SUCCEEDED": B.COMPLETED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": B.COMPLETED,
    "JOB_STATE_CANCELLED": B.CANCELED,
    "JOB_STATE_EXPIRED": B.EXPIRED,
    "JOB_STATE_FAILED": B.FAILED,
}

#: google.rpc `Code` names (an error's `status`, google/rpc/code.proto).
GEMINI_ERRORS: dict[str, ErrorType] = {
    "INVALID_ARGUMENT": E.INVALID_REQUEST,
    "FAILED_PRECONDITION": E.INVALID_REQUEST,
    "OUT_OF_RANGE": E.INVALID_REQUEST,
    "ALREADY_EXISTS": E.INVALID_REQUEST,
    "UNIMPLEMENTED": E.INVALID_REQUEST,
    "UNAUTHENTICATED": E.AUTHENTICATION,
    "PERMISSION_DENIED": E.PERMISSION,
    "NOT_FOUND": E.NOT_FOUND,
    "RESOURCE_EXHAUSTED": E.RATE_LIMIT,
    "DEADLINE_EXCEEDED": E.TIMEOUT,
    "UNAVAILABLE": E.OVERLOADED,
    "INTERNAL": E.SERVER_ERROR,
    "UNKNOWN": E.SERVER_ERROR,
    "ABORTED": E.SERVER_ERROR,
    "DATA_LOSS": E.SERVER_ERROR,
    "CANCELLED": E.CANCELED,
}

#: google.rpc.Code numbers by name: an error row's `code` below 100 (the SDK drops `status` from
#: inline rows, so the number may be all there is).
_RPC_NAMES = dict(
    enumerate(
        (
            "OK",
            "CANCELLED",
            "UNKNOWN",
            "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION",
            "ABORTED",
            "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL",
            "UNAVAILABLE",
            "DATA_LOSS",
            "UNAUTHENTICATED",
        )
    )
)


def gemini_batch_state(raw: str, ended_as: str | None = None) -> BatchState | None:
    return GEMINI_STATES.get(raw.replace("BATCH_STATE_", "JOB_STATE_", 1))


def gemini_error_type(code: object, status: object) -> ErrorType:
    """A `{code, status}` error: its `status` name, else its `code` (a google.rpc number below
    100, an HTTP status otherwise)."""
    if isinstance(status, str) and status in GEMINI_ERRORS:
        return GEMINI_ERRORS[status]
    if isinstance(code, int) and _RPC_NAMES.get(code) in GEMINI_ERRORS:
        return GEMINI_ERRORS[_RPC_NAMES[code]]
    return error_type_of_status(code)


# --- Mistral ----------------------------------------------------------------------------------

#: `BatchJob.status` (mistralai `models/batchjobstatus.py`, every member); `TIMEOUT_EXCEEDED`
#: is a job that ran past its `timeout_hours` (docs.mistral.ai/capabilities/batch).
MISTRAL_STATES: dict[str, BatchState] = {
    "QUEUED": B.QUEUED,
    "RUNNING": B.IN_PROGRESS,
    "SUCCESS": B.COMPLETED,
    "FAILED": B.FAILED,
    "TIMEOUT_EXCEEDED": B.EXPIRED,
    "CANCELLATION_REQUESTED": B.CANCELING,
    "CANCELLED": B.CANCELED,
}


def mistral_batch_state(raw: str, ended_as: str | None = None) -> BatchState | None:
    return MISTRAL_STATES.get(raw)


# --- Amazon Bedrock ---------------------------------------------------------------------------

#: `ModelInvocationJobStatus`, all ten (botocore data/bedrock/2023-04-20/service-2.json; meanings
#: in docs/wire/platforms.md §2.2). PartiallyCompleted ran out of time for some records: it ended,
#: and the records without an output line are failed (retryable) by collection.
BEDROCK_STATES: dict[str, BatchState] = {
    "Submitted": B.QUEUED,
    "Validating": B.VALIDATING,
    "Scheduled": B.QUEUED,
    "InProgress": B.IN_PROGRESS,
    "Completed": B.COMPLETED,
    "PartiallyCompleted": B.COMPLETED,
    "Failed": B.FAILED,
    "Stopping": B.CANCELING,
    "Stopped": B.CANCELED,
    "Expired": B.EXPIRED,
}

#: the error codes of a record's `error.errorCode` are HTTP statuses (batch-inference-results.html)


def bedrock_batch_state(raw: str, ended_as: str | None = None) -> BatchState | None:
    return BEDROCK_STATES.get(raw)


def bedrock_error(code: object, message: str) -> ResultError:
    """A record's `{"errorCode": 400, "errorMessage"}` as a `ResultError`: typed by its status."""
    status = code if isinstance(code, int) else None
    kind = error_type_of_status(status)
    retryable = status is None or status == 429 or status >= 500
    return ResultError(kind, message, retryable, code=str(code))


# --- by provider ------------------------------------------------------------------------------

_BATCH_STATES: dict[ProviderName, Callable[[str, str | None], BatchState | None]] = {
    ProviderName.OPENAI: openai_batch_state,
    ProviderName.ANTHROPIC: anthropic_batch_state,
    ProviderName.GEMINI: gemini_batch_state,
    ProviderName("vertex"): gemini_batch_state,  # the same JobState names (types.JobState)
    ProviderName("mistral"): mistral_batch_state,
    ProviderName("bedrock"): bedrock_batch_state,
}


def batch_state(provider: ProviderName, raw: str | None, ended_as: str | None = None) -> BatchState | None:
    """A batch's provider status in the neutral vocabulary; None when the provider has said
    nothing yet, or a word no table knows (shown raw)."""
    mapping = _BATCH_STATES.get(provider)
    return mapping(raw, ended_as) if raw is not None and mapping is not None else None


def with_state(row: BatchRow) -> BatchRow:
    """The batch with its `state` in the neutral vocabulary (what we know where the provider has
    said nothing yet: `shown_state`)."""
    said = batch_state(row.provider, row.raw_status, row.ended_as)
    return dataclasses.replace(row, state=shown_state(row.status, said, given_up=row.given_up))
