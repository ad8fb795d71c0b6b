"""The REST API's bodies and answers (pydantic), apart from the domain types and the tables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from corthex.engine.engine import MAX_COMMAND_CHARS


class Problem(BaseModel):
    line: int = Field(description="1-based line (or item) number; 0 for the input as a whole")
    unit: str = Field(description='"line" in a file, "item" in a list of requests')
    field: str | None = None
    reason: str


class ErrorBody(BaseModel):
    detail: str
    problems: list[Problem] = Field(default_factory=list)


# -- jobs and the queue -----------------------------------------------------------------------


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[dict[str, Any]] = Field(
        description="Request objects in the input-line format: custom_id, model, prompt or messages, …",
        examples=[[{"custom_id": "q1", "model": "claude-sonnet-4-6", "prompt": "Hello"}]],
    )
    queue: bool = Field(False, description="Wait in the queue for a flush instead of going out now")
    skip_invalid: bool = Field(False, description="Submit the valid items and report the others")
    label: str | None = Field(None, max_length=200)
    deadline: float | str | None = Field(
        None,
        description="When every result is wanted: a Unix time, a duration (90m, 2h, 1d) or an ISO timestamp. "
        "Requests whose batch is predicted to end later go on a faster tier (realtime) instead.",
        examples=["2h", "2026-12-04T09:00:00+09:00"],
    )
    deadline_margin: float | str | None = Field(
        None,
        description="Time kept before the deadline, in seconds or a duration (default: a tenth of the time left, "
        "at least a minute)",
    )


class QueueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[dict[str, Any]]
    skip_invalid: bool = False
    label: str | None = Field(None, max_length=200)


class Submitted(BaseModel):
    job_id: str
    total: int
    queued: bool
    skipped: list[Problem] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)  #: what will not go out as written, and why
    replayed: bool = False  #: the Idempotency-Key was used before: this is the job that call created


class ProviderCounts(BaseModel):
    requests: int
    succeeded: int
    failed: int = Field(description="failed or expired (never canceled: counted apart)")
    canceled: int = Field(0, description="canceled (by a cancel of the job, or with a batch canceled at its provider)")
    cut: int = Field(0, description="answers the output budget cut (finish_reason length), succeeded or failed")
    input_tokens: int
    output_tokens: int
    cost_usd: float
    realtime_cost_usd: float
    saving_usd: float
    cache_saving_usd: float = Field(0.0, description="what prompt caching saved: reads, less the write premium")


class TierCounts(BaseModel):
    results: int
    cost_usd: float
    batch_cost_usd: float = Field(description="What the same results cost (or would have cost) in a batch")


class Job(BaseModel):
    id: str
    status: str
    source: str
    total: int
    finished: int
    succeeded: int
    failed: int = Field(description="failed or expired (never canceled: counted apart)")
    canceled: int = Field(0, description="canceled (by a cancel of the job, or with a batch canceled at its provider)")
    cut: int = Field(0, description="answers the output budget cut (finish_reason length)")
    cost_usd: float
    cache_saving_usd: float = Field(0.0, description="what prompt caching saved: reads, less the write premium")
    batches: int
    created_at: float
    completed_at: float | None
    label: str | None
    retry_of: str | None = Field(None, description="The job whose failed requests this one sends again")
    by_provider: dict[str, ProviderCounts]
    deadline: float | None = Field(None, description="Unix time every result is wanted by")
    tiers: dict[str, TierCounts] = Field(
        default_factory=dict, description="Per tier that answered (batch, flex, realtime): results and cost"
    )
    deadline_cost_usd: float = Field(0.0, description="What answering on faster tiers cost over all-batch")


RetryStatus = Literal["failed", "expired", "canceled"]


def _failed_and_expired() -> list[RetryStatus]:
    return ["failed", "expired"]


class RetryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[RetryStatus] = Field(
        default_factory=_failed_and_expired,
        min_length=1,
        description="Which of the job's requests to send again, by the status of their result",
    )


class Retried(Job):
    replayed: bool = Field(False, description="The Idempotency-Key was used before: this is the retry it created")


class Stopped(BaseModel):
    """What a cancel stopped."""

    canceled: int = Field(description="requests canceled by this cancel (never sent, or their answers discarded)")
    already_done: int = Field(description="requests that had ended before the cancel: their results are kept")
    batches_canceled: int = Field(description="batches canceled at their provider")
    message: str = Field(description='e.g. "4,998 canceled, 2 already done"')


class CanceledJob(Job):
    stopped: Stopped


class Batch(BaseModel):
    id: str
    provider: str
    model: str | None
    status: str = Field(description="our own bookkeeping: intent, submitted, ended, collected or abandoned")
    state: str | None = Field(
        None,
        description="where the batch stands, in one vocabulary for every provider: pending, queued, validating, "
        "in_progress, finalizing, canceling, completed, failed, expired or canceled",
    )
    raw_status: str | None = Field(description="the provider's own word for its state (e.g. JOB_STATE_SUCCEEDED)")
    remote_id: str | None
    request_count: int
    done_count: int
    failed_count: int
    created_at: float
    submitted_at: float | None
    ended_at: float | None
    next_poll_at: float | None
    poll_count: int
    poll_failures: int
    ended_as: str | None
    error: str | None
    job_requests: int | None = Field(None, description="How many of this job's requests the batch carries")
    shared_with_jobs: int = Field(0, description="How many other jobs have requests in this batch")


class JobDetail(Job):
    batch_list: list[Batch] = Field(description="The job's provider batches, newest first")


class QueueState(BaseModel):
    requests: int = Field(description="Requests waiting in the queue")
    oldest_at: float | None
    jobs: list[Job]


class Flushed(BaseModel):
    released: int


class Cleared(BaseModel):
    canceled_jobs: list[str]
    canceled_requests: int


# -- chains -----------------------------------------------------------------------------------


class ChainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=MAX_COMMAND_CHARS)
    broadcast: bool = Field(False, description="Run every department, plus a chief-of-staff summary")
    realtime: bool = Field(False, description="Use the realtime APIs (full price, no batch wait)")
    origin: Literal["api", "web"] = "api"
    deadline: float | str | None = Field(
        None,
        description="When the report is wanted: a Unix time, a duration (90m, 2h, 1d) or an ISO timestamp. "
        "The time left is shared among the steps; a step whose batch would end past its share goes faster.",
        examples=["2h"],
    )
    deadline_margin: float | str | None = Field(
        None, description="Time kept before the deadline, in seconds or a duration (default as for jobs)"
    )


class ChainItem(BaseModel):
    custom_id: str
    agent: str
    agent_name: str
    department: str | None
    model: str
    provider: str
    status: str = Field(description='"working" until its result is in, then the result status')
    content: str | None = None
    cost_usd: float | None = None
    error: str | None = None
    prompt: str | None = Field(None, description="The last user message sent (cut at 20,000 characters)")
    system: str | None = Field(None, description="The system text sent, if any (cut likewise)")
    finished_at: float | None = Field(None, description="When its result was recorded (unix time)")


class ChainStep(BaseModel):
    step: str
    job_id: str | None
    status: Literal["running", "done", "skipped"]
    started_at: float
    finished_at: float | None = Field(None, description="When its last result was recorded, once done")
    items: list[ChainItem]
    transport: Literal["batch", "realtime"] | None = Field(None, description="How its calls go out")
    deadline: float | None = Field(None, description="Its job's deadline: its share of the chain's (unix time)")
    predicted_finish_at: float | None = Field(None, description="When it is predicted to finish, while running")


class Chain(BaseModel):
    id: str
    command: str
    status: str
    step: str
    broadcast: bool
    realtime: bool
    departments: list[str]
    route_method: str | None
    route_detail: str | None
    origin: str
    created_at: float
    updated_at: float
    completed_at: float | None
    elapsed_s: float
    cost_usd: float
    realtime_cost_usd: float
    saving_usd: float
    error: str | None
    rerun_of: str | None = Field(None, description="the chain this one runs again (POST /chains/{id}/rerun)")
    deadline: float | None = Field(None, description="When its report is wanted (unix time); null: no deadline")
    deadline_margin: float | None = Field(None, description="Seconds kept before the deadline")


class LadderStep(BaseModel):
    step: str
    state: Literal["done", "running", "pending", "skipped", "stopped"]
    predicted_finish_at: float | None = Field(None, description="When it is predicted to finish (running, pending)")


class ChainDetail(Chain):
    report: str | None
    predicted_finish_at: float | None = Field(None, description="When the running chain is predicted to finish")
    steps: list[ChainStep]
    ladder: list[LadderStep]  #: each step of the chain's path with the state the dashboard shows


class ChainStarted(BaseModel):
    id: str
    status: str
    step: str
    departments: list[str]
    route: str | None
    rerun_of: str | None = None  #: set when the chain runs another one again


class ChainStoppedCounts(BaseModel):
    jobs: int = Field(description="step jobs canceled")
    canceled: int = Field(description="requests canceled")
    already_done: int = Field(description="requests that had ended before the cancel (in the report)")
    message: str


class ChainCanceled(ChainDetail):
    """The chain after its cancel (status `canceled`, the report of what it had) and what stopped."""

    stopped: ChainStoppedCounts


# -- org, costs, archive ----------------------------------------------------------------------


class Agent(BaseModel):
    id: str
    name: str
    model: str


class Department(BaseModel):
    id: str
    name: str
    division: str
    remit: str
    manager: Agent
    specialists: list[Agent]
    keywords: list[str]


class Org(BaseModel):
    chief_of_staff: str
    classifier_model: str
    broadcast_departments: list[str]
    broadcast_keywords: list[str]
    departments: list[Department]


class DayCost(BaseModel):
    day: str = Field(description="YYYY-MM-DD in the configured time zone")
    cost_usd: float
    realtime_cost_usd: float


class CostShares(BaseModel):
    by_provider: dict[str, float] = Field(description="provider -> cost, largest first")
    by_model: dict[str, float] = Field(description="model -> cost, largest first")
    by_department: dict[str, float] = Field(
        description='department of the chain agent -> cost, largest first; "jobs" for requests outside chains'
    )


class Costs(BaseModel):
    timezone: str
    today_usd: float = Field(description="Spent today: the actual cost of today's results")
    budget_usd: float | None
    held_usd: float = Field(0.0, description="What open jobs are still expected to cost (their estimates)")
    remaining_usd: float | None = Field(
        description="budget - spent today - held by open jobs: a submission estimated above it is refused"
    )
    days: list[DayCost] = Field(description="Oldest first, today last")
    breakdown: CostShares = Field(description="The cost over these days by provider, model and department")


class ArchiveEntry(BaseModel):
    name: str
    size: int
    modified_at: float
    chain_id: str | None = None
    department: str | None = None
    command: str | None = None


class Strings(BaseModel):
    lang: str = Field(description="The language of `strings`: the one asked for, else the server's default")
    default: str = Field(
        description="The server's default: CORTHEX_LANGUAGE, else Korean in the Asia/Seoul time zone, "
        "else the browser's (Accept-Language), else English"
    )
    languages: list[str]
    strings: dict[str, str] = Field(description="The dashboard's strings in `lang`, by key")


class Health(BaseModel):
    status: Literal["ok"]
    worker: bool = Field(description="Whether the worker loop (poller, dispatcher, chains) is running")
    telegram: bool
    emulated: dict[str, bool] = Field(
        default_factory=dict, description="provider -> whether its base URL points at the CORTHEX emulator"
    )
