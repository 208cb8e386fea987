"""credit accounts: relationship_since (the ramp-up applies to new relationships only)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 01:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credit_accounts", sa.Column("relationship_since", sa.Date(), nullable=True))
    # Existing accounts: the first invoice on the ledger, else the day the account last changed
    # (the best record there is of when the relationship started).
    op.execute(
        "UPDATE credit_accounts SET relationship_since = (SELECT MIN(invoices.issued_on) FROM invoices WHERE invoices.buyer_id = credit_accounts.buyer_id)"
    )
    as_date = "date(updated_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(updated_at AS DATE)"
    op.execute(f"UPDATE credit_accounts SET relationship_since = {as_date} WHERE relationship_since IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("credit_accounts") as batch:
        batch.drop_column("relationship_since")
