"""the model's tool calls on each result, and each request's metadata handed back with it

Revision ID: 0013
Revises: 0012

Requests may now carry tools (issue 14): an answer can be a set of tool calls rather than text.
The metadata a request line gives comes back on its output line (it was dropped): it is kept on
the request when the job is recorded and copied to its result.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata", sa.Text(), nullable=True))
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tool_calls", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("metadata", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("metadata")
        batch_op.drop_column("tool_calls")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("metadata")
