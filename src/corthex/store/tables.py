"""SQLAlchemy table definitions. Times are Unix seconds (floats): portable across SQLite and
PostgreSQL, and cheap to compare in the poller's queries."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

metadata = MetaData()
_QUEUED = text("state = 'queued'")
_OWED = text("delivered_at IS NULL AND error IS NULL")

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(16), nullable=False),  # queued | running | completed | canceled
    Column("source", String(16), nullable=False),  # cli | api | queue | chain
    Column("total", Integer, nullable=False),
    Column("label", Text),
    Column("created_at", Float, nullable=False),
    Column("completed_at", Float),
    Column("realtime", Boolean, nullable=False, default=False, server_default=false()),  # realtime APIs
    Column("estimate_usd", Float),  # expected cost, held against the daily budget until results land
    Column("idempotency_key", String(255)),  # the client's Idempotency-Key: a retry returns this job
    Column("request_digest", String(64)),  # sha256 of the requests, to tell a retry from a reused key
    Column("lease_owner", String(64)),  # a realtime job: the process sending its calls
    Column("lease_until", Float),
    Column("retry_of", String(40)),  # the job whose failed (or expired, …) requests this one sends again
    Column("deadline", Float),  # Unix time its results are wanted by (issue 17); NULL: none
    Column("deadline_margin", Float),  # seconds kept before the deadline
    Column("hurried_at", Float),  # set when it was found late: its requests no longer go into batches
    Index("ix_jobs_status", "status"),
    Index("ux_jobs_idempotency_key", "idempotency_key", unique=True),
    Index("ix_jobs_created", "created_at"),
)

requests = Table(
    "requests",
    metadata,
    Column("id", String(64), primary_key=True),  # the provider-safe wire id
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("custom_id", Text, nullable=False),  # the user's own id
    Column("provider", String(16), nullable=False),
    Column("model", Text, nullable=False),
    Column("body", Text, nullable=False),  # canonical request JSON
    Column("metadata", Text),  # the request's metadata as JSON (copied to its result)
    Column("route", Text),  # what else keeps it apart in planning: "native" (+ ":" + OpenAI url)
    Column("size", Integer, nullable=False),
    Column("inputs", Integer),  # embedding inputs (a list input's texts), for OpenAI's 50,000; NULL: 1
    Column("state", String(16), nullable=False),  # queued | in_batch | done
    Column("attempts", Integer, nullable=False, default=0),
    Column("submit_failures", Integer, nullable=False, default=0),
    Column("not_before", Float),
    Column("batch_id", String(40)),
    Column("last_error", Text),
    Column("cache_group", Text),  # its cacheable prompt prefix (domain/cache_groups.py), planned together
    Column("held_by", String(40)),  # the priming batch it waits for: sent once that batch has ended
    # late for its job's deadline (migration 0020): no longer goes into batches, sent on a faster tier
    Column("hurried", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_requests_job_seq", "job_id", "seq", unique=True),
    # Queued requests only, in dispatch order: a request leaves it when it goes out, and the
    # in_batch -> done step (once per result) touches no index on state (migration 0004).
    Index("ix_requests_queued", "job_id", "seq", sqlite_where=_QUEUED, postgresql_where=_QUEUED),
    Index("ix_requests_batch", "batch_id"),
)

results = Table(
    "results",
    metadata,
    Column("request_id", String(64), ForeignKey("requests.id"), primary_key=True),
    Column("job_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("custom_id", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("content", Text),
    Column("model", Text),
    Column("provider", String(16), nullable=False),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cached_tokens", Integer),
    Column("cache_write_tokens", Integer),
    Column("cost_usd", Float),
    Column("realtime_cost_usd", Float),
    Column("error_type", Text),
    Column("error_message", Text),
    Column("attempts", Integer, nullable=False),
    Column("batch_id", String(40)),
    Column("created_at", Float, nullable=False),
    Column("finish_reason", String(16)),  # stop | length | content_filter | refusal | tool_calls | other
    Column("reasoning_tokens", Integer),  # part of output_tokens
    Column("parsed", Text),  # the structured answer as JSON, when the request had a schema
    Column("error_code", Text),  # the provider's own code; error_type is the neutral one (ErrorType)
    Column("tool_calls", Text),  # the model's tool calls as JSON ([{"id", "name", "arguments"}])
    Column("metadata", Text),  # the request's metadata as JSON, handed back on its output line
    Column("raw", Text),  # a native line's answer: the provider's own result object, as JSON
    Column("embedding", LargeBinary),  # an embedding's vectors as float32 (domain/embeddings.pack_embedding)
    Column("cache_saving_usd", Float),  # its cost without prompt caching minus its cost (None: no cache use)
    Column("tier", String(16)),  # batch | flex | realtime (NULL: stored before migration 0018)
    Column("batch_cost_usd", Float),  # answered on a faster tier: what it would have cost in a batch
    Index("ix_results_job_seq", "job_id", "seq"),
    Index("ix_results_created", "created_at"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(40), primary_key=True),  # our id; also the key stored at the provider
    Column("provider", String(16), nullable=False),
    Column("model", Text),
    Column("status", String(16), nullable=False),  # intent | submitted | ended | collected | abandoned
    Column("remote", Text),  # RemoteRef JSON
    Column("raw_status", Text),
    Column("request_count", Integer, nullable=False),
    Column("done_count", Integer, nullable=False, default=0),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("submitted_at", Float),
    Column("ended_at", Float),
    Column("started_at", Float),  # when a poll first found it running at the provider (time to start)
    Column("next_poll_at", Float),
    Column("poll_interval", Float),
    Column("poll_failures", Integer, nullable=False, default=0),
    Column("poll_count", Integer, nullable=False, default=0),
    Column("ended_as", String(16)),
    Column("error", Text),
    Column("error_retryable", Boolean, nullable=False, default=False),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("moved_at", Float),  # canceled for a job's deadline: what it did not answer goes on a faster tier
    Index("ix_batches_due", "status", "next_poll_at"),
    Index("ix_batches_created", "created_at"),
)

chains = Table(
    "chains",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("command", Text, nullable=False),
    Column("broadcast", Boolean, nullable=False),
    Column("realtime", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # running | completed | stopped | canceled | failed
    Column("step", String(16), nullable=False),
    Column("departments", Text, nullable=False),  # JSON list; empty until classified
    Column("route_method", String(16)),  # keyword | model | fallback | broadcast
    Column("route_detail", Text),
    Column("origin", String(16), nullable=False),  # cli | api | web | telegram
    Column("origin_ref", Text),  # e.g. the Telegram chat id to report progress to
    Column("report", Text),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("completed_at", Float),
    Column("rerun_of", String(40)),  # the chain this one runs again (migration 0011)
    Column("deadline", Float),  # Unix time its report is wanted by (migration 0019); NULL: none
    Column("deadline_margin", Float),  # seconds kept before it
    Column("lease_owner", String(64)),  # the worker advancing the chain now
    Column("lease_until", Float),
    Index("ix_chains_status", "status"),
)

chain_steps = Table(
    "chain_steps",
    metadata,
    Column("chain_id", String(40), ForeignKey("chains.id"), primary_key=True),
    Column("step", String(16), primary_key=True),
    Column("job_id", String(40)),  # null for a step with nothing to send
    Column("created_at", Float, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("chain_id", String(40), ForeignKey("chains.id"), primary_key=True),
    Column("sink", String(32), primary_key=True),
    Column("delivered_at", Float),
    Column("error", Text),
    Column("lease_owner", String(64)),  # a process delivering it after the chain has finished
    Column("lease_until", Float),
    # owed deliveries only (every worker round looks for them): the index stays as small as they are
    Index("ix_deliveries_owed", "sink", sqlite_where=_OWED, postgresql_where=_OWED),
)
