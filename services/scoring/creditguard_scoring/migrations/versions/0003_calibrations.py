"""calibrations, the calibration version of each assessment, past-due thresholds assessed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 01:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=False),
        sa.Column("slope", sa.Float(), nullable=False),
        sa.Column("pivot", sa.Float(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=False),
        sa.Column("backtest", sa.JSON(), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_calibrations")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calibration_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("payment_experiences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("past_due_threshold_assessed", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("payment_experiences", schema=None) as batch_op:
        batch_op.drop_column("past_due_threshold_assessed")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("calibration_version")
    op.drop_table("calibrations")
