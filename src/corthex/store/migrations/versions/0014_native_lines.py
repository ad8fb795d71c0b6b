"""provider-native batch lines: the route that keeps them in batches of their own, and the
provider's own result object for each

Revision ID: 0014
Revises: 0013

A line may be in a provider's own batch form (issue 14): it is sent as given, planned apart from
our own lines of the same model (an OpenAI line names its endpoint, and a batch file has one),
and its output line carries the provider's result object as `raw`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route", sa.Text(), nullable=True))
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("raw")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("route")
