from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_alerts.database import Base, Money, UtcDateTime


class BuyerProfile(Base):
    __tablename__ = "buyer_profiles"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    account_owner: Mapped[str | None] = mapped_column(String(200), index=True)
    grade: Mapped[int | None] = mapped_column(Integer)
    risk_class: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    limit_amount: Mapped[Decimal | None] = mapped_column(Money)
    exposure: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    overdue: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    utilisation: Mapped[float | None] = mapped_column(Float)
    account_status: Mapped[str] = mapped_column(String(20), default="active")
    review_due_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InsuranceCover(Base):
    __tablename__ = "insurance_covers"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    insurer: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    insured_amount: Mapped[Decimal] = mapped_column(Money)
    report_overdue_within_days: Mapped[int] = mapped_column(Integer)
    file_claim_within_days: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
