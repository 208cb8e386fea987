from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_limits.database import Base
from creditguard_shared.database import Money, UtcDateTime


class InsurancePolicy(Base):
    __tablename__ = "insurance_policies"

    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    insurer: Mapped[str] = mapped_column(String(200))
    indemnity_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    max_credit_period_days: Mapped[int] = mapped_column(Integer)
    report_overdue_within_days: Mapped[int] = mapped_column(Integer)
    file_claim_within_days: Mapped[int] = mapped_column(Integer)
    # What an order that adds uninsured exposure gets: "referred", "approved_with_conditions" or "none".
    uninsured_action: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InsuranceCover(Base):
    """The insurer's cover on one buyer (one current cover per buyer)."""

    __tablename__ = "insurance_covers"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    requested_amount: Mapped[Decimal] = mapped_column(Money)
    granted_amount: Mapped[Decimal] = mapped_column(Money)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["InsuranceCover", "InsurancePolicy"]
