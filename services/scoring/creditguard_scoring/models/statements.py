from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_scoring.database import Base
from creditguard_shared.database import Money, UtcDateTime


class FinancialStatement(Base):
    """One fiscal year's balance sheet and income statement, in the statement's own currency.
    A line the buyer did not report is NULL, never zero."""

    __tablename__ = "financial_statements"
    __table_args__ = (UniqueConstraint("buyer_id", "fiscal_year"),)

    statement_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    total_assets: Mapped[Decimal | None] = mapped_column(Money)
    current_assets: Mapped[Decimal | None] = mapped_column(Money)
    cash: Mapped[Decimal | None] = mapped_column(Money)
    receivables: Mapped[Decimal | None] = mapped_column(Money)
    inventory: Mapped[Decimal | None] = mapped_column(Money)
    fixed_assets: Mapped[Decimal | None] = mapped_column(Money)
    total_liabilities: Mapped[Decimal | None] = mapped_column(Money)
    short_term_liabilities: Mapped[Decimal | None] = mapped_column(Money)
    long_term_liabilities: Mapped[Decimal | None] = mapped_column(Money)
    equity: Mapped[Decimal | None] = mapped_column(Money)
    share_capital: Mapped[Decimal | None] = mapped_column(Money)
    retained_earnings: Mapped[Decimal | None] = mapped_column(Money)
    sales: Mapped[Decimal | None] = mapped_column(Money)
    cost_of_products_sold: Mapped[Decimal | None] = mapped_column(Money)
    gross_profit: Mapped[Decimal | None] = mapped_column(Money)
    operating_profit: Mapped[Decimal | None] = mapped_column(Money)
    ebit: Mapped[Decimal | None] = mapped_column(Money)
    depreciation: Mapped[Decimal | None] = mapped_column(Money)
    interest_expenses: Mapped[Decimal | None] = mapped_column(Money)
    net_profit: Mapped[Decimal | None] = mapped_column(Money)
    prior_year_sales: Mapped[Decimal | None] = mapped_column(Money)
