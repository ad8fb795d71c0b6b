"""why each answer ended, its reasoning tokens, and its structured answer

Revision ID: 0007
Revises: 0006

Reasoning models can spend the whole output budget thinking and answer nothing; answers can be
cut at the budget. Each result now keeps the provider's finish reason (in one vocabulary), the
reasoning share of its output tokens, and, for a request with a JSON schema, the validated answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finish_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reasoning_tokens", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parsed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("parsed")
        batch_op.drop_column("reasoning_tokens")
        batch_op.drop_column("finish_reason")
