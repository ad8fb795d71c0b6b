"""What the store hands back to the engine: a batch, a chain and a chain's steps as they stand,
as plain values (the store maps its rows into them; nothing here knows SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corthex.domain.batches import BatchState, BatchStatus, RemoteRef
from corthex.domain.chain import ChainStatus, JobState, Step
from corthex.domain.requests import ProviderName

#: What collection needs to decide a request's fate: attempts, whether the job is canceled,
#: model, the request's JSON schema (None without one). A plain tuple, not a class: the garbage
#: collector stops tracking tuples of plain values, so the pending requests of large batches do
#: not make every full collection longer (and more frequent).
#: (attempts, job canceled, model, JSON schema, whether an embedding answer is one vector,
#: an embedding request's tokens estimated from its texts, for an answer without a count; else 0,
#: whether it is a native line, whose answer keeps the provider's own result object as `raw`)
RequestMeta = tuple[int, bool, str, dict[str, Any] | None, bool, int, bool]


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    provider: ProviderName
    model: str | None
    status: BatchStatus
    remote: RemoteRef | None
    raw_status: str | None  #: the provider's own word for its state, for display
    request_count: int
    done_count: int
    failed_count: int
    created_at: float
    submitted_at: float | None
    ended_at: float | None
    next_poll_at: float | None
    poll_interval: float | None
    poll_failures: int
    poll_count: int
    ended_as: str | None
    error: str | None
    error_retryable: bool
    #: we stopped waiting for it (`Store.give_up`): its results are not fetched, its requests expire
    given_up: bool = False
    #: where it stands in one vocabulary for every provider (`raw_status` is the provider's word);
    #: set by the engine from the provider's table (providers/vocabulary.py), None as stored
    state: BatchState | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["provider"], data["status"] = self.provider.value, self.status.value
        data["state"] = self.state.value if self.state is not None else None
        data["remote_id"] = self.remote.remote_id if self.remote else None
        del data["remote"]
        return data


@dataclass(frozen=True, slots=True)
class ChainRow:
    id: str
    command: str
    broadcast: bool
    realtime: bool
    status: ChainStatus
    step: Step
    departments: tuple[str, ...]
    route_method: str | None
    route_detail: str | None
    origin: str
    origin_ref: str | None
    report: str | None
    error: str | None
    created_at: float
    updated_at: float
    completed_at: float | None
    rerun_of: str | None = None  #: the chain this one runs again
    deadline: float | None = None  #: Unix time its report is wanted by (None: no deadline)
    deadline_margin: float | None = None  #: seconds kept before the deadline

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["status"], data["step"] = self.status.value, self.step.value
        data["departments"] = list(self.departments)
        return data


@dataclass(frozen=True, slots=True)
class ChainStopped:
    """A chain canceled by a person: the chain afterwards (its report delivered) and what stopped."""

    chain: ChainRow
    jobs: int  #: step jobs canceled
    canceled: int  #: requests canceled
    already_done: int  #: requests of those jobs that had ended before (their answers are in the report)

    def message(self) -> str:
        return f"chain {self.chain.id} canceled: {self.canceled:,} canceled, {self.already_done:,} already done"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.chain.to_dict(),
            "stopped": {
                "jobs": self.jobs,
                "canceled": self.canceled,
                "already_done": self.already_done,
                "message": self.message(),
            },
        }


@dataclass(frozen=True, slots=True)
class StepRow:
    step: Step
    job_id: str | None
    created_at: float
    realtime: bool = False  #: its job's calls go out realtime (the chain's flag or the org's transport)


@dataclass(frozen=True, slots=True)
class ChainState:
    """A chain with its current step's row (None: not claimed yet) and where that step's job stands
    (None: the step has no job): what `domain.chain.next_action` decides on."""

    chain: ChainRow
    step: StepRow | None
    job: JobState | None


@dataclass(frozen=True, slots=True)
class DeadlineJob:
    """A running job with a deadline, and where its unanswered requests are (engine/deadlines.py)."""

    job_id: str
    deadline: float  #: Unix time
    margin: float  #: seconds kept before it
    hurried: bool  #: some of its requests are marked late: they no longer go into batches
    queued: dict[tuple[str, str], int]  #: requests waiting to go out by batch, by (provider, model)
    batches: tuple[BatchRow, ...]  #: its open batches at a provider
    held: dict[str, int]  #: batch id -> the job's requests still waiting in it (pseudo-batches too)
    #: requests marked late waiting to go on a faster tier, by (provider, model)
    fast_queued: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobProgress:
    """Where a job stands for a forecast of its end (a chain's step: engine/chain_deadlines.py)."""

    job_id: str
    completed_at: float | None  #: Unix time every request had its result
    realtime: bool  #: its calls go out realtime
    hurried: bool  #: found late for its deadline: its requests go on a faster tier
    deadline: float | None  #: its own deadline (a chain step's share), if any
    queued: dict[tuple[str, str], int]  #: requests waiting to go out, by (provider, model)
    batches: tuple[BatchRow, ...]  #: its open batches at a provider
