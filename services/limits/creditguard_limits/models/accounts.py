from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Integer, Numeric, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_limits.database import Base
from creditguard_shared.database import Money, UtcDateTime

PROBABILITY = Numeric(9, 8)


class CreditAccount(Base):
    """One per buyer: the limit, its terms and status, plus this service's copy of the buyer's
    latest assessment and payment record, so a credit check reads one row."""

    __tablename__ = "credit_accounts"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # None until a credit manager or the policy sets a limit.
    limit_amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    review_on: Mapped[date | None] = mapped_column(Date)
    # "manual" (set through the API) or "policy" (follows the recommendation and its ramp-up).
    limit_source: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'active'"))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # JSON list of flags a credit manager should look at, e.g. "limit_below_exposure".
    flags: Mapped[str] = mapped_column(Text, server_default=text("'[]'"))
    # Exposure above the limit at the last change; limit-breached is published on the way up only.
    breached: Mapped[bool] = mapped_column(Boolean, server_default=false())
    name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    industry: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[int | None] = mapped_column(Integer)
    risk_class: Mapped[str | None] = mapped_column(String(32))
    pd: Mapped[Decimal | None] = mapped_column(PROBABILITY)
    equity: Mapped[Decimal | None] = mapped_column(Money)
    sales: Mapped[Decimal | None] = mapped_column(Money)
    statement_currency: Mapped[str | None] = mapped_column(String(3))
    assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Payment record, kept incrementally by the ledger for ramp-up and the cash-in forecast.
    invoices_settled: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    invoices_paid_on_time: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    days_late_total: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Since when the company sells to the buyer on credit: imported with an existing book, else
    # the day the account was created. Older than the policy's ramp_up.established_after_days:
    # no ramp-up.
    relationship_since: Mapped[date | None] = mapped_column(Date)
    # What the buyer bought on credit over the last twelve months, in the policy's matrix currency:
    # its payment experience (policy payment_experience). Refreshed by the daily sweep and imports.
    purchases_12m: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditGroup(Base):
    """A parent whose limit its member buyers share."""

    __tablename__ = "credit_groups"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit_amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    review_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TemporaryIncrease(Base):
    __tablename__ = "temporary_increases"

    increase_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set by the daily sweep once limit-changed announced the end of the window.
    expiry_announced: Mapped[bool] = mapped_column(Boolean, server_default=false())


class LimitAudit(Base):
    """Who changed what on a buyer's or group's credit terms, when, from what to what, and why."""

    __tablename__ = "limit_audit"

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    old_values: Mapped[str] = mapped_column(Text)
    new_values: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(500))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["CreditAccount", "CreditGroup", "LimitAudit", "TemporaryIncrease"]
