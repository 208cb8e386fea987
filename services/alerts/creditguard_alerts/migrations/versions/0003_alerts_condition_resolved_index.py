"""index alerts by condition and resolution time

Raising an alert first looks up the condition's last resolved alert (the cooldown); without an
index that read every alert ever raised.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:30:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_condition_resolved", ["rule_id", "dedup_key", "resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_condition_resolved")
