"""risk classes by their one name: `very_high`, not `very high`

Scoring published (and every service stored) the worst class as `very high` while rules and
strategies named it `very_high`; stored rows take the events' enumeration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:30:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("credit_accounts",)


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET risk_class = 'very_high' WHERE risk_class = 'very high'")


def downgrade() -> None:
    # One class, one name: nothing to restore.
    pass
