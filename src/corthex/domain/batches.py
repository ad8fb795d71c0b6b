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
