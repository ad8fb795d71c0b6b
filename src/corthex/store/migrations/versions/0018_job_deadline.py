"""deadlines: a job's deadline and margin, the batches moved to a faster tier, each result's tier

Revision ID: 0018
Revises: 0017

A job may carry a deadline (issue 17). When its batches are predicted to end too late the engine
hurries it (`hurried_at`: its requests no longer go into batches), cancels the late batches
(`moved_at`) and sends what they did not answer on a faster tier; each result says which tier
answered it and, when that was not a batch, what a batch would have cost. NULL everywhere for
rows stored before: no deadline, batch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("deadline_margin", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("hurried_at", sa.Float(), nullable=True))
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_at", sa.Float(), nullable=True))
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("batch_cost_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("batch_cost_usd")
        batch_op.drop_column("tier")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("moved_at")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("hurried_at")
        batch_op.drop_column("deadline_margin")
        batch_op.drop_column("deadline")
