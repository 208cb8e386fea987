from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_limits.database import Base
from creditguard_shared.database import Money, UtcDateTime


class CreditCheck(Base):
    """One decision with everything needed to explain it later: inputs, rules version, exposure."""

    __tablename__ = "credit_checks"
    __table_args__ = (Index("ix_credit_checks_order_created", "order_id", "created_at"),)

    check_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(32))
    # "decided", or "pending" while a referred order waits for a credit manager.
    state: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text)
    limit_currency: Mapped[str] = mapped_column(String(3))
    # The limit the decision was made against: "limit" or "economic_capacity" (see economics).
    limit_amount: Mapped[Decimal | None] = mapped_column(Money)
    limit_basis: Mapped[str | None] = mapped_column(String(24))
    exposure_before: Mapped[Decimal] = mapped_column(Money)
    exposure_after: Mapped[Decimal] = mapped_column(Money)
    available_credit: Mapped[Decimal | None] = mapped_column(Money)
    breakdown: Mapped[str] = mapped_column(Text)
    # JSON: the order's expected contribution and its inputs (docs/economics.md).
    economics: Mapped[str | None] = mapped_column(Text)
    rules_version: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OrderReservation(Base):
    """Credit held for an approved order until it is invoiced, cancelled or expires."""

    __tablename__ = "order_reservations"
    __table_args__ = (Index("ix_order_reservations_buyer_status", "buyer_id", "status"),)

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str] = mapped_column(String(36))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # "open", "invoiced", "cancelled" or "expired".
    status: Mapped[str] = mapped_column(String(16))
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


__all__ = ["CreditCheck", "OrderReservation"]
