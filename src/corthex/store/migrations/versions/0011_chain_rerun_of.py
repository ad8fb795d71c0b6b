"""a chain run again names the chain it repeats

Revision ID: 0011
Revises: 0010

`corthex chain rerun ID` (issue 16) starts a new chain with the same command; `rerun_of` links
it to the first, so the dashboard and the API can show the two together.
(0010, `retry_of` on jobs, is another branch's: the merge puts this one after it.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rerun_of", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.drop_column("rerun_of")
