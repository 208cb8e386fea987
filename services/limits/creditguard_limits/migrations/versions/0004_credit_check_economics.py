"""credit checks: the order's expected contribution and the limit the decision was made against

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: decisions taken before the economics existed have no figures; their limit was the
    # buyer's own.
    op.add_column("credit_checks", sa.Column("limit_basis", sa.String(length=24), nullable=True))
    op.add_column("credit_checks", sa.Column("economics", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_checks") as batch:
        batch.drop_column("economics")
        batch.drop_column("limit_basis")
