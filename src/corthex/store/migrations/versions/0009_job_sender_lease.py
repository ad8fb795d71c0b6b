"""a realtime job is leased to the process sending its calls

Revision ID: 0009
Revises: 0008

A realtime call is paid for each time it is sent. A `corthex chain --realtime` process whose
event loop stalled past its chain lease lost the chain to a worker, which sent the calls still
in flight a second time (issue 12). The job's lease says who is sending its calls; it is
renewed from a thread of the sender's own (engine/keeper.py), so only a dead sender loses it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
