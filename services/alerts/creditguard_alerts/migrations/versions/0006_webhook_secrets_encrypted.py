"""webhook signing secrets encrypted at rest

Subscriptions kept their signing secrets in plain text. They move to `secret_encrypted`, a Fernet
token under the first key of ALERTS_WEBHOOK_SECRET_KEYS; the plain column goes. A database with
subscriptions cannot be upgraded without a key (nor downgraded without one that decrypts them).
Signatures do not change: the secrets themselves stay the same.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

subscriptions = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.String),
    sa.column("secret", sa.String),
    sa.column("secret_encrypted", sa.Text),
)


def _keys():
    # Read as the service reads it, so the migration and the service agree on the key.
    from creditguard_alerts.settings import Settings
    from creditguard_alerts.webhooks.secret_keys import SETTING

    keys = Settings().secret_keys
    if not keys.configured:
        raise RuntimeError(
            f"webhook subscriptions hold secrets to encrypt and {SETTING} is not set: "
            "set it (`creditguard-alerts new-webhook-secret-key` prints a new key) and migrate again"
        )
    return keys


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_encrypted", sa.Text(), nullable=True))
    rows = bind.execute(sa.select(subscriptions.c.id, subscriptions.c.secret)).all()
    if rows:
        keys = _keys()
        for subscription_id, secret in rows:
            bind.execute(subscriptions.update().where(subscriptions.c.id == subscription_id).values(secret_encrypted=keys.encrypt(secret)))
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.alter_column("secret_encrypted", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("secret")


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.String(length=100), nullable=True))
    rows = bind.execute(sa.select(subscriptions.c.id, subscriptions.c.secret_encrypted)).all()
    if rows:
        keys = _keys()
        for subscription_id, token in rows:
            bind.execute(subscriptions.update().where(subscriptions.c.id == subscription_id).values(secret=keys.decrypt(token)))
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column("secret_encrypted")
