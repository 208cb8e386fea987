"""money in whole cents on SQLite

SQLite stored NUMERIC(18, 2) amounts as binary floats (0.1 + 0.2 != 0.3); the Money column type
stores whole cents there, which SQLite keeps as exact integers. PostgreSQL's NUMERIC is exact
already and is left as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:00:00
"""

from creditguard_shared.migrations import sqlite_money_to_cents, sqlite_money_to_units

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    "buyer_profiles": ("limit_amount", "exposure", "overdue"),
    "collection_cases": ("open_amount", "promised_amount"),
    "collection_strategies": ("min_amount", "max_amount"),
    "insurance_covers": ("insured_amount",),
    "receivable_settlements": ("amount",),
    "receivables": ("amount", "open_amount"),
}


def upgrade() -> None:
    sqlite_money_to_cents(MONEY_COLUMNS)


def downgrade() -> None:
    sqlite_money_to_units(MONEY_COLUMNS)
