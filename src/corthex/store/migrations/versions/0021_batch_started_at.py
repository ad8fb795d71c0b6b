"""batches: when the provider started running it (time to start, beside time to end)

Revision ID: 0021
Revises: 0020

The turnaround the deadline work learns from (issue 17) was creation → end only; a poll that
finds the batch running (the provider's in_progress or finalizing, in the one vocabulary) now
records when it first saw that, so the history has each batch's time to start too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("started_at")
