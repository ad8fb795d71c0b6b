"""jobs remember the Idempotency-Key they were submitted with, and a digest of their requests

Revision ID: 0008
Revises: 0007

A client whose `POST /jobs` timed out and who sent it again created a second job of 100,000
requests, paid for twice (issue 12). A submission with a key already used returns the job it
created; the digest tells a true retry from a key reused for other requests.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("request_digest", sa.String(64), nullable=True))
        batch_op.create_index("ux_jobs_idempotency_key", ["idempotency_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ux_jobs_idempotency_key")
        batch_op.drop_column("request_digest")
        batch_op.drop_column("idempotency_key")
