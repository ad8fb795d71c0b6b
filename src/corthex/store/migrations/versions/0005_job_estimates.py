"""the estimated cost of a job, held against the daily budget until its results land

Revision ID: 0005
Revises: 0004

A job submitted under a daily budget records what it is expected to cost. Until its results
arrive, the unfinished share of that estimate counts against the budget, so jobs and chains
submitted side by side cannot each pass the check on the same old total (LESSONS W18).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("estimate_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("estimate_usd")
