"""a job remembers the job it retries

Revision ID: 0010
Revises: 0009

`corthex retry JOB` (and `POST /jobs/{id}/retry`) sends a job's failed or expired requests again
as a new job (issue 16 item 2); the new job names the first, so each can be followed to the other.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_of", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("retry_of")
