from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_limits.database import Base
from creditguard_shared.database import Money, UtcDateTime
from creditguard_shared.receivables import InvoiceColumns


class Invoice(InvoiceColumns, Base):
    """An invoice of the ledger. ``open_amount`` (amount minus payments and credit notes, never
    below zero) is kept current for fast exposure reads."""

    __tablename__ = "invoices"

    order_id: Mapped[str | None] = mapped_column(String(64))
    # The highest days-past-due threshold (1, 15, 30, 60, 90) already announced with payment-late.
    late_bucket_announced: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    # No foreign key: a payment consumed from Kafka may arrive before its invoice (different topics).
    invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    # The part that settled its invoice: at most what was open when the payment was recorded (or,
    # for a payment consumed before its invoice, when the invoice arrived). The rest is the buyer's
    # unapplied cash. None while the invoice is unknown: the whole payment is held for it.
    applied_amount: Mapped[Decimal | None] = mapped_column(Money)
    # Not money received: the buyer's unapplied cash applied to this invoice (a cash application,
    # ``applied_amount`` = ``amount``). It settles the invoice and spends that much unapplied cash.
    from_unapplied_cash: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditNote(Base):
    __tablename__ = "credit_notes"

    credit_note_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Refund(Base):
    """Unapplied cash paid back to the buyer, in the currency it was received in."""

    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    refunded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["CreditNote", "Invoice", "Payment", "Refund"]
