"""the outbox is the log: published rows keep their broker position and stay for the retention

Published events are no longer only marked: each keeps the partition and offset the broker
acknowledged, so a broker that lost data is found by reading those positions back and the lost
events are queued again (requeued_at); pruning and replays select by creation time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broker_partition', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('broker_offset', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('requeued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_events_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_events_broker_position', ['topic', 'broker_partition', 'broker_offset'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_broker_position')
        batch_op.drop_index('ix_outbox_events_created_at')
        batch_op.drop_column('requeued_at')
        batch_op.drop_column('broker_offset')
        batch_op.drop_column('broker_partition')
