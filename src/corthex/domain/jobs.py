"""Jobs: one submission of requests, done when every request has its final result."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  #: waiting in the queue for a flush
    RUNNING = "running"  #: requests going out or in flight
    COMPLETED = "completed"  #: every request has its final result
    CANCELED = "canceled"  #: canceled by the user; results so far are kept

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.CANCELED)


class RequestState(enum.StrEnum):
    QUEUED = "queued"  #: waiting to go out (first time or retry)
    IN_BATCH = "in_batch"  #: assigned to a batch
    DONE = "done"  #: has its final result


@dataclass(frozen=True, slots=True)
class ProviderCounts:
    requests: int = 0
    succeeded: int = 0
    failed: int = 0  #: failed or expired: never canceled ones (counted apart)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    realtime_cost_usd: float = 0.0
    unpriced: int = 0  #: results whose model has no known price
    cut: int = 0  #: answers the output budget cut (finish_reason `length`: cut text, or none at all)
    canceled: int = 0  #: canceled by the user, or with a batch canceled at its provider (last: for positional uses)
    cache_saving_usd: float = 0.0  #: what prompt caching saved (reads, less the write premium)

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.canceled

    @property
    def saving_usd(self) -> float:
        return self.realtime_cost_usd - self.cost_usd


@dataclass(frozen=True, slots=True)
class TierCounts:
    """The results one tier answered (batch, flex, realtime: domain/deadlines.Tier)."""

    results: int = 0
    cost_usd: float = 0.0
    batch_cost_usd: float = 0.0  #: what the same results cost (or would have cost) in a batch

    @property
    def over_batch_usd(self) -> float:
        return self.cost_usd - self.batch_cost_usd


@dataclass(frozen=True, slots=True)
class JobSummary:
    id: str
    status: JobStatus
    source: str
    total: int
    created_at: float
    completed_at: float | None
    label: str | None
    by_provider: dict[str, ProviderCounts] = field(default_factory=dict)
    batches: int = 0
    retry_of: str | None = None  #: the job whose failed requests this one sends again
    deadline: float | None = None  #: Unix time its results are wanted by
    tiers: dict[str, TierCounts] = field(default_factory=dict)  #: results and cost per tier that answered

    @property
    def deadline_cost_usd(self) -> float:
        """What answering on faster tiers cost over answering everything in batches."""
        return sum(t.over_batch_usd for t in self.tiers.values())

    @property
    def finished(self) -> int:
        return sum(c.finished for c in self.by_provider.values())

    @property
    def succeeded(self) -> int:
        return sum(c.succeeded for c in self.by_provider.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.by_provider.values())

    @property
    def canceled(self) -> int:
        return sum(c.canceled for c in self.by_provider.values())

    @property
    def cut(self) -> int:
        return sum(c.cut for c in self.by_provider.values())

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.by_provider.values())

    @property
    def cache_saving_usd(self) -> float:
        """What prompt caching saved over the same requests uncached (negative: writes cost more
        than reads saved, e.g. a cache written by every request of a batch and read by none)."""
        return sum(c.cache_saving_usd for c in self.by_provider.values())

    @property
    def all_succeeded(self) -> bool:
        """Every request has its answer: nothing failed, expired or was canceled."""
        return self.succeeded == self.total and self.status is not JobStatus.CANCELED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "source": self.source,
            "total": self.total,
            "finished": self.finished,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "canceled": self.canceled,
            "cut": self.cut,
            "cost_usd": round(self.cost_usd, 8),
            "cache_saving_usd": round(self.cache_saving_usd, 8),
            "batches": self.batches,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "label": self.label,
            "retry_of": self.retry_of,
            "by_provider": {k: _counts_dict(v) for k, v in self.by_provider.items()},
            "deadline": self.deadline,
            "tiers": {k: _tier_dict(t) for k, t in self.tiers.items()},
            "deadline_cost_usd": round(self.deadline_cost_usd, 8),
        }


def _tier_dict(t: TierCounts) -> dict[str, Any]:
    return {"results": t.results, "cost_usd": round(t.cost_usd, 8), "batch_cost_usd": round(t.batch_cost_usd, 8)}


def _counts_dict(c: ProviderCounts) -> dict[str, Any]:
    return {
        "requests": c.requests,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "canceled": c.canceled,
        "cut": c.cut,
        "input_tokens": c.input_tokens,
        "output_tokens": c.output_tokens,
        "cost_usd": round(c.cost_usd, 8),
        "realtime_cost_usd": round(c.realtime_cost_usd, 8),
        "saving_usd": round(c.saving_usd, 8),
        "cache_saving_usd": round(c.cache_saving_usd, 8),
    }


@dataclass(frozen=True, slots=True)
class Cancellation:
    """What the store did on a cancel: every request of the job without a result got a
    `canceled` one (queued, in a batch being created, or in a batch at its provider: whatever
    comes back for it later is discarded); those with a result already keep it."""

    canceled: int  #: requests canceled now
    already_done: int  #: requests that had their result already (kept as they were)
    batches: tuple[str, ...] = ()  #: open batches left with no live request: to cancel at their provider


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """A cancel as the user sees it: the job afterwards, and what the cancel stopped."""

    job: JobSummary
    canceled: int  #: requests canceled by this cancel
    already_done: int  #: requests that had ended before it (their results are kept)
    batches_canceled: int  #: batches canceled at their provider (none of their requests was still wanted)

    def message(self) -> str:
        """ "4,998 canceled, 2 already done" (and the batches stopped at their providers)."""
        text = f"{self.canceled:,} canceled, {self.already_done:,} already done"
        if self.batches_canceled:
            text += f"; {self.batches_canceled} batch{'es' if self.batches_canceled != 1 else ''} stopped"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.job.to_dict(),
            "stopped": {
                "canceled": self.canceled,
                "already_done": self.already_done,
                "batches_canceled": self.batches_canceled,
                "message": self.message(),
            },
        }


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The queue at a glance: what waits for a flush (by hand, by size or by age)."""

    requests: int  #: requests in queued jobs
    jobs: int  #: queued jobs
    oldest_at: float | None  #: creation time of the oldest queued job (None: the queue is empty)
