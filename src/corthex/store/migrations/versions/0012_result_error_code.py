"""each failed result keeps the provider's own error code beside the neutral type

Revision ID: 0012
Revises: 0011

The same fault read `invalid_request_error` on two providers and `code_400` on Gemini (issue 16).
`error_type` now holds one vocabulary for every provider (`ErrorType`); the provider's raw code
moves to `error_code`. Rows written before keep their raw code in `error_type` and no `error_code`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_code", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("error_code")
