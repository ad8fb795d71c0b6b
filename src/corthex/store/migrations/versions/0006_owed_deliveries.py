"""deliveries owed from a chain's start, and leases on them

Revision ID: 0006
Revises: 0005

A chain owes its report to every sink of the process that started it (a Telegram command is owed
to Telegram), recorded when it starts. When another process finishes the chain (several workers
on PostgreSQL), a sink it does not have stays owed, and a process that has it delivers it later,
holding a lease so that two such processes never both send it. Every worker round looks for
owed deliveries, so a partial index holds just those.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

OWED = sa.text("delivered_at IS NULL AND error IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.Float(), nullable=True))
        batch_op.create_index("ix_deliveries_owed", ["sink"], unique=False, sqlite_where=OWED, postgresql_where=OWED)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_owed")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
