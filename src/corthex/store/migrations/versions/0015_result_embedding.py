"""embedding results: the vectors, compactly

Revision ID: 0015
Revises: 0014

An embedding request (issue 14) answers with one vector, or one per text: kept as float32 bytes
(`domain/embeddings.pack_embedding`), about 6 KB for 1536 dimensions where JSON text takes about 33 KB.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("embedding")
