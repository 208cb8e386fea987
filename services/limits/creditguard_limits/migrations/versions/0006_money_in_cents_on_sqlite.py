"""money in whole cents on SQLite

SQLite stored NUMERIC(18, 2) amounts as binary floats (0.1 + 0.2 != 0.3); the Money column type
stores whole cents there, which SQLite keeps as exact integers. PostgreSQL's NUMERIC is exact
already and is left as it is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:00:00
"""

from creditguard_shared.migrations import sqlite_money_to_cents, sqlite_money_to_units

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    "credit_accounts": ("limit_amount", "equity", "sales", "purchases_12m"),
    "credit_checks": ("amount", "limit_amount", "exposure_before", "exposure_after", "available_credit"),
    "credit_groups": ("limit_amount",),
    "credit_notes": ("amount",),
    "insurance_covers": ("requested_amount", "granted_amount"),
    "invoices": ("amount", "open_amount"),
    "order_reservations": ("amount",),
    "payments": ("amount",),
    "temporary_increases": ("amount",),
}


def upgrade() -> None:
    sqlite_money_to_cents(MONEY_COLUMNS)


def downgrade() -> None:
    sqlite_money_to_units(MONEY_COLUMNS)
