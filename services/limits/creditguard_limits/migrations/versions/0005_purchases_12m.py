"""credit accounts: the last twelve months of purchases, the buyer's payment experience

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credit_accounts", sa.Column("purchases_12m", sa.Numeric(18, 2), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("credit_accounts") as batch:
        batch.drop_column("purchases_12m")
