"""requests: cache group and priming hold; results: what caching saved

Revision ID: 0017
Revises: 0016

`cache_group` names a request's cacheable prompt prefix, so planning keeps a group in one batch
without reading bodies; `held_by` is the priming batch a request waits for (it is sent once that
batch has ended: Anthropic's cache is written by one request and read by later ones). The result's
`cache_saving_usd` is its cost without caching minus its cost (reads saved, less the extra paid
for writes), summed in the job summary.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cache_group", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("held_by", sa.String(40), nullable=True))
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cache_saving_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("cache_saving_usd")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("held_by")
        batch_op.drop_column("cache_group")
