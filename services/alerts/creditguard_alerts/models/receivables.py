from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_alerts.database import Base, Money, UtcDateTime
from creditguard_shared.receivables import InvoiceColumns


class Receivable(InvoiceColumns, Base):
    """An invoice as alerts knows it: how late it is and what collections did about it."""

    __tablename__ = "receivables"

    # Latest past-due threshold reported by the limits service's aging sweep (0 = none yet).
    late_bucket: Mapped[int] = mapped_column(Integer, default=0)
    # Steps taken with the credit insurer (recorded on the collection case); they stop the deadline alerts.
    insurer_notified_on: Mapped[date | None] = mapped_column(Date)
    claim_filed_on: Mapped[date | None] = mapped_column(Date)
    # When the invoice reached this service (None: before it was recorded): an invoice posted long
    # after its due date is history arriving, judged once its payments had time to follow.
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReceivableSettlement(Base):
    __tablename__ = "receivable_settlements"

    settlement_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    settled_on: Mapped[date] = mapped_column(Date)
