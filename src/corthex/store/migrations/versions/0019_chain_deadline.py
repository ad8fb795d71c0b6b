"""chain deadlines: a chain may carry a deadline and its margin

Revision ID: 0019
Revises: 0018

A chain's deadline (issue 17) is shared among its remaining steps as each step is entered: the
step's job gets a job deadline (0018's columns), and the job's mover keeps it on time. NULL for
chains stored before: no deadline, nothing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"


def upgrade() -> None:
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("deadline_margin", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.drop_column("deadline_margin")
        batch_op.drop_column("deadline")
