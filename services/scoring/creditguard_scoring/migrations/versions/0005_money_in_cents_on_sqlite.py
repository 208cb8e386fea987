"""money in whole cents on SQLite

SQLite stored NUMERIC(18, 2) amounts as binary floats (0.1 + 0.2 != 0.3); the Money column type
stores whole cents there, which SQLite keeps as exact integers. PostgreSQL's NUMERIC is exact
already and is left as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:00:00
"""

from creditguard_shared.migrations import sqlite_money_to_cents, sqlite_money_to_units

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    "broken_promises": ("promised_amount",),
    "financial_statements": (
        "total_assets",
        "current_assets",
        "cash",
        "receivables",
        "inventory",
        "fixed_assets",
        "total_liabilities",
        "short_term_liabilities",
        "long_term_liabilities",
        "equity",
        "share_capital",
        "retained_earnings",
        "sales",
        "cost_of_products_sold",
        "gross_profit",
        "operating_profit",
        "ebit",
        "depreciation",
        "interest_expenses",
        "net_profit",
        "prior_year_sales",
    ),
    "payment_experiences": ("amount", "open_amount"),
    "settlements": ("amount",),
}


def upgrade() -> None:
    sqlite_money_to_cents(MONEY_COLUMNS)


def downgrade() -> None:
    sqlite_money_to_units(MONEY_COLUMNS)
