"""hurried requests: a deadline moves only the late (provider, model) group of a job

Revision ID: 0020
Revises: 0019

The deadline mover (issue 17) hurried a whole job (`jobs.hurried_at`): every queued request of
it left the batches, though only one provider and model was late. A request now carries its own
mark: set on the requests of a late batch (they come back as retries when it is canceled) and on
the queued requests of a late group; only those skip the batches and go on a faster tier.
`jobs.hurried_at` stays: when the job was first found late (a chain's forecast reads it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hurried", sa.Boolean(), nullable=False, server_default=sa.false()))
    # a job hurried before this migration had all its requests hurried
    op.execute("UPDATE requests SET hurried = true WHERE job_id IN (SELECT id FROM jobs WHERE hurried_at IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("hurried")
