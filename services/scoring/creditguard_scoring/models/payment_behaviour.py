from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_scoring.database import Base
from creditguard_shared.database import Money
from creditguard_shared.receivables import InvoiceColumns


class PaymentExperience(InvoiceColumns, Base):
    """One invoice as the scoring service knows it: when it was due and how it was settled."""

    __tablename__ = "payment_experiences"

    # Worst days past due seen so far (from payment-late events or at settlement).
    max_days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    # The days-past-due threshold (30, 60, 90) the buyer's latest assessment already reflected for
    # this invoice: the due pass re-assesses buyers whose open invoices crossed the next one.
    past_due_threshold_assessed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Settlement(Base):
    """A payment or credit note against an invoice; kept so out-of-order events still add up."""

    __tablename__ = "settlements"

    settlement_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # payment | credit_note
    amount: Mapped[Decimal] = mapped_column(Money)
    settled_on: Mapped[date] = mapped_column(Date)


class BrokenPromise(Base):
    """A promise to pay that collections saw broken; one per case and promised date, so a
    redelivered event or a case's second broken promise each count once."""

    __tablename__ = "broken_promises"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    promised_until: Mapped[date] = mapped_column(Date, primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[str] = mapped_column(String(64))
    promised_amount: Mapped[Decimal | None] = mapped_column(Money)
    broken_on: Mapped[date] = mapped_column(Date)
