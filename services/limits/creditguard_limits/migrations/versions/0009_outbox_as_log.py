"""the outbox is the log: published rows keep their broker position and stay for the retention

Published events are no longer only marked: each keeps the partition and offset the broker
acknowledged, so a broker that lost data is found by reading those positions back and the lost
events are queued again (requeued_at); pruning and replays select by creation time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00
"""

from creditguard_shared.migrations import outbox_forgets_broker_positions, outbox_keeps_broker_positions

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_keeps_broker_positions()


def downgrade() -> None:
    outbox_forgets_broker_positions()
