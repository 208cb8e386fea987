"""broken promises to pay, from collections

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broken_promises",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("promised_until", sa.Date(), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("promised_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("broken_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "promised_until", name=op.f("pk_broken_promises")),
    )
    with op.batch_alter_table("broken_promises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broken_promises_buyer_id"), ["buyer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("broken_promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broken_promises_buyer_id"))
    op.drop_table("broken_promises")
