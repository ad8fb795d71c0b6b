"""Provider batches: what we store about them, and what providers report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from corthex.domain.results import ResultStatus


class BatchStatus(enum.StrEnum):
    INTENT = "intent"  #: recorded, not yet created at the provider (or creation unconfirmed)
    SUBMITTED = "submitted"  #: created at the provider; polled until it ends
    ENDED = "ended"  #: ended at the provider; results being collected
    COLLECTED = "collected"  #: every request of the batch has a result or went back to the queue
    ABANDONED = "abandoned"  #: creation failed for good, or the batch was given up

    @property
    def is_open(self) -> bool:
        return self in (BatchStatus.INTENT, BatchStatus.SUBMITTED, BatchStatus.ENDED)


class RemoteState(enum.StrEnum):
    RUNNING = "running"  #: queued, validating or in progress at the provider
    ENDED = "ended"  #: finished (completed, expired or cancelled): results can be read
    FAILED = "failed"  #: the batch as a whole failed; no results


class BatchState(enum.StrEnum):
    """Where a batch stands, in one vocabulary for every provider (docs/providers.md, "One
    vocabulary"); the provider's own word stays beside it as `raw_status`. Each adapter maps its
    statuses here (`batch_state`); `shown_state` adds what only we know (not created yet, given up)."""

    PENDING = "pending"  #: recorded, not yet created at the provider
    QUEUED = "queued"  #: created, waiting to start
    VALIDATING = "validating"  #: the provider is checking the input
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"  #: done running, results being written
    CANCELING = "canceling"
    COMPLETED = "completed"  #: ended normally (some requests may have failed)
    FAILED = "failed"  #: the batch as a whole failed
    EXPIRED = "expired"  #: its window ran out (the requests that had not run expired)
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (BatchState.COMPLETED, BatchState.FAILED, BatchState.EXPIRED, BatchState.CANCELED)


#: the states in which the provider is running a batch (its time to start ends at the first)
RUNNING_STATES = frozenset({BatchState.IN_PROGRESS, BatchState.FINALIZING})

#: how a batch that ended at its provider ended, from what the collection recorded (`ended_as`)
_ENDED_STATE = {None: BatchState.COMPLETED, "expired": BatchState.EXPIRED, "canceled": BatchState.CANCELED}


def ended_state(ended_as: str | None) -> BatchState:
    """The state of a batch whose provider says only "ended" (Anthropic), from how it ended."""
    return _ENDED_STATE.get(ended_as, BatchState.COMPLETED)


def shown_state(status: BatchStatus, provider_state: BatchState | None, *, given_up: bool = False) -> BatchState:
    """The state to show for a batch: the provider's (mapped by its adapter) once it has said
    anything, else what we know: an intent is `pending`, a batch we gave up on `expired`, one
    abandoned at creation `failed`, a created one not yet looked at `queued`."""
    if given_up:
        return BatchState.EXPIRED
    if status is BatchStatus.ABANDONED and provider_state is None:
        return BatchState.FAILED
    if provider_state is not None:
        return provider_state
    return BatchState.PENDING if status is BatchStatus.INTENT else BatchState.QUEUED


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """How to find a batch at its provider; persisted as JSON."""

    remote_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id, "extra": self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RemoteRef:
        return cls(data["remote_id"], dict(data.get("extra") or {}))


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    state: RemoteState
    raw_status: str  #: the provider's own word, for display
    total: int = 0
    done: int = 0  #: requests finished so far (where the provider says)
    failed: int = 0
    error: str | None = None  #: why the batch failed, when it did
    retryable: bool = False  #: whether a failed batch's requests are worth another attempt
    #: the status for requests with no result row once the batch ended: EXPIRED or CANCELED,
    #: or None (a plain completion: a missing row is a retryable failure)
    ended_as: ResultStatus | None = None
