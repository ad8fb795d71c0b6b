"""requests: how many embedding inputs each carries

Revision ID: 0016
Revises: 0015

OpenAI holds a `/v1/embeddings` batch to 50,000 embedding inputs across its requests (a list input
counts each text): planning needs each request's count without reading its body. NULL (rows
stored before) counts as 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inputs", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("inputs")
