"""Events: one frozen dataclass per fact the engine announces (a batch was created, a chain step
is done, …). Pure data: the bus (engine/events.py) fans them out, the WebSocket hub and the
PostgreSQL relay send them as `{"type": …, "data": …, "at": …}`.

Each class keeps the wire `type` string and the data keys the dashboard has always received, so
the JSON on /ws and in NOTIFY payloads is unchanged. `chain.step` is two facts on the wire (its
`status` says which): `ChainStepSubmitted` and `ChainStepDone`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

#: attributes about the event itself, not part of its wire data
_META = frozenset({"at", "relayed_from", "omitted"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """The base of every event: when it happened and where it came from."""

    TYPE: ClassVar[str] = ""
    #: data keys left out of the wire data while their value is None (absent means "unchanged")
    SPARSE: ClassVar[frozenset[str]] = frozenset()

    at: float = field(default_factory=time.time)
    #: None for an event of this process; the publishing process's id for one relayed from
    #: another process (PostgreSQL LISTEN/NOTIFY, engine/pg_events.py)
    relayed_from: str | None = None
    #: data keys the relay left out to fit NOTIFY's size limit (the client fetches them by id)
    omitted: tuple[str, ...] = ()

    @property
    def type(self) -> str:
        return self.TYPE

    def data(self) -> dict[str, Any]:
        """The wire data: the fields in declaration order, tuples as lists."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _META or f.name in self.omitted or (value is None and f.name in self.SPARSE):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        if self.omitted:
            out["omitted"] = list(self.omitted)
        return out

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data(), "at": self.at}


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(Event):
    """An event this process has no class for (sent by a newer process), or one whose required
    data the relay had to leave out: passed on as it came."""

    name: str
    payload: dict[str, Any]

    @property
    def type(self) -> str:
        return self.name

    def data(self) -> dict[str, Any]:
        return dict(self.payload)


# -- jobs and the queue --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSubmitted(Event):
    TYPE = "job.submitted"
    job_id: str
    total: int
    queued: int  #: requests held in the queue for a later flush


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCanceled(Event):
    TYPE = "job.canceled"
    job_id: str
    canceled: int = 0  #: requests the cancel stopped
    already_done: int = 0  #: requests that had ended before it (kept)
    batches: int = 0  #: batches canceled at their provider


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCompleted(Event):
    TYPE = "job.completed"
    job_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestsMoved(Event):
    """A job's requests left the batch tier for a faster one to meet its deadline: a late
    batch canceled at its provider (`batch_id`; what it answered is kept, the rest follows), or
    requests still queued sent at once (`batch_id` None)."""

    TYPE = "job.requests_moved"
    SPARSE = frozenset({"batch_id", "provider"})
    job_id: str
    requests: int
    tier: str  #: flex | realtime
    deadline: float
    predicted_end: float  #: when the batch (or a new one) was expected to end
    batch_id: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFlushed(Event):
    TYPE = "queue.flushed"
    requests: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCleared(Event):
    TYPE = "queue.cleared"
    jobs: int
    requests: int


# -- batches -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSubmitted(Event):
    TYPE = "batch.submitted"
    batch_id: str
    provider: str
    model: str | None
    requests: int
    remote_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchDuplicateCanceled(Event):
    TYPE = "batch.duplicate_canceled"
    batch_id: str
    provider: str
    remote_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSubmitFailed(Event):
    """A creation failed: retried after `retry_in` seconds, or `given_up` requests failed for good."""

    TYPE = "batch.submit_failed"
    batch_id: str
    provider: str
    error: str = ""
    retry_in: float
    given_up: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchProgress(Event):
    TYPE = "batch.progress"
    batch_id: str
    provider: str
    done: int
    failed: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchEnded(Event):
    TYPE = "batch.ended"
    batch_id: str
    provider: str
    status: str | None  #: the provider's own word for how it ended
    error: str | None = None
    state: str | None = None  #: how it ended in one vocabulary for every provider (`BatchState`)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchCollected(Event):
    TYPE = "batch.collected"
    batch_id: str
    provider: str  #: "realtime" for a realtime step's calls
    results: int
    retried: int


# -- chains --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStarted(Event):
    TYPE = "chain.started"
    chain_id: str
    command: str = ""
    step: str
    departments: tuple[str, ...]
    route: str | None  #: how the departments were chosen; None until a classify step does it
    detail: str | None = None
    broadcast: bool
    realtime: bool
    origin: str  #: where the chain was started: cli, web, telegram, …
    origin_ref: str | None = None  #: e.g. the Telegram chat


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStepSubmitted(Event):
    TYPE = "chain.step"
    chain_id: str
    step: str
    status: str = field(default="submitted", init=False)
    job_id: str
    agents: tuple[str, ...]
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStepDone(Event):
    TYPE = "chain.step"
    SPARSE = frozenset({"departments"})
    chain_id: str
    step: str
    status: str = field(default="done", init=False)
    next: str
    departments: tuple[str, ...] | None = None  #: set when this step chose them (classify)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainItem(Event):
    """One agent's answer in a chain step, as soon as its batch is collected."""

    TYPE = "chain.item"
    chain_id: str
    step: str
    custom_id: str
    agent: str
    status: str
    model: str | None
    cost_usd: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainDone(Event):
    TYPE = "chain.done"
    chain_id: str
    status: str
    cost_usd: float
    realtime_cost_usd: float
    report: str | None = None
    notice: str | None = None
    origin: str | None = None
    origin_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainCanceled(Event):
    """A person stopped the chain (`chain cancel`, `POST /chains/{id}/cancel`, Telegram `/cancel`):
    its open jobs are canceled; its report (what it had) follows as `chain.done`."""

    TYPE = "chain.canceled"
    chain_id: str
    step: str  #: the step it was at
    jobs: int  #: step jobs canceled
    canceled: int  #: requests canceled
    already_done: int  #: requests that had ended before (kept in the report)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainRerun(Event):
    """A chain was started again as a new one (`chain rerun`)."""

    TYPE = "chain.rerun"
    chain_id: str  #: the new chain
    rerun_of: str  #: the chain it runs again


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport(Event):
    """A finished chain's report, delivered once to the dashboard (api/events.py)."""

    TYPE = "chain.report"
    chain_id: str
    command: str = ""
    broadcast: bool
    departments: tuple[str, ...]
    report: str = ""
    cost_usd: float
    realtime_cost_usd: float
    saving_usd: float
    delivered_at: float


#: the wire type of each class; `chain.step` has two, told apart by their `status`
_BY_TYPE: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        JobSubmitted,
        JobCanceled,
        JobCompleted,
        RequestsMoved,
        QueueFlushed,
        QueueCleared,
        BatchSubmitted,
        BatchDuplicateCanceled,
        BatchSubmitFailed,
        BatchProgress,
        BatchEnded,
        BatchCollected,
        ChainStarted,
        ChainItem,
        ChainDone,
        ChainCanceled,
        ChainRerun,
        ChainReport,
    )
}
_STEP_BY_STATUS: dict[str, type[Event]] = {"submitted": ChainStepSubmitted, "done": ChainStepDone}

#: every wire type string (the dashboard and the NOTIFY payloads match on these)
WIRE_TYPES = frozenset({*_BY_TYPE, ChainStepDone.TYPE})


def from_wire(type_: str, data: dict[str, Any], at: float, relayed_from: str | None = None) -> Event:
    """The event a wire message describes; an `UnknownEvent` for a type this process does not
    know, or when the relay left out data the event cannot do without."""
    cls = _STEP_BY_STATUS.get(data.get("status", "")) if type_ == ChainStepDone.TYPE else _BY_TYPE.get(type_)
    omitted = tuple(str(k) for k in data.get("omitted") or ())
    if cls is not None:
        known = {f.name for f in fields(cls) if f.init} - _META
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        try:
            return cls(**values, at=at, relayed_from=relayed_from, omitted=omitted)
        except TypeError:  # a required key is missing
            pass
    return UnknownEvent(name=type_, payload=dict(data), at=at, relayed_from=relayed_from)
