"""risk classes by their one name; when each receivable arrived

Scoring published (and every service stored) the worst class as `very high` while rules and
strategies named it `very_high`; stored rows take the events' enumeration. Receivables remember
when their invoice arrived, so an invoice posted long after its due date waits for its payments
before the rules judge it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE buyer_profiles SET risk_class = 'very_high' WHERE risk_class = 'very high'")
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
    # One class, one name: nothing to restore.
