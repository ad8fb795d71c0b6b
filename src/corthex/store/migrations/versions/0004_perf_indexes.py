"""indexes for 100,000-request jobs and the server's lists

Revision ID: 0004
Revises: 0003

- `ix_requests_state (state, provider)` is replaced by a partial index over queued requests only,
  in dispatch order. Every request changes state twice (queued -> in_batch -> done), and the old
  index was rewritten each time (about half of the cost of recording a result); worse, with no
  statistics SQLite preferred it to the primary key and to `ix_requests_batch`, so assigning a
  chunk of requests to a batch, and reading one batch's requests, scanned every request in that
  state. The partial index is touched only when a request enters or leaves the queue.
- `created_at` indexes for the newest-first lists (jobs, batches) and the cost-since queries
  (the daily budget check before every chain step reads `results.created_at`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

QUEUED = sa.text("state = 'queued'")


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_state")
        batch_op.create_index(
            "ix_requests_queued", ["job_id", "seq"], unique=False, sqlite_where=QUEUED, postgresql_where=QUEUED
        )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_created", ["created_at"], unique=False)
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index("ix_batches_created", ["created_at"], unique=False)
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.create_index("ix_results_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_index("ix_results_created")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_created")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_created")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_queued")
        batch_op.create_index("ix_requests_state", ["state", "provider"], unique=False)
