from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_scoring.database import Base
from creditguard_shared.database import UtcDateTime


class Buyer(Base):
    """A customer as the ERP knows it, with what the assessment needs about the company."""

    __tablename__ = "buyers"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2), index=True)
    industry: Mapped[str | None] = mapped_column(String(8), index=True)
    legal_form: Mapped[str | None] = mapped_column(String(64))
    founded_on: Mapped[date | None] = mapped_column(Date)
    group_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AdverseEvent(Base):
    """An insolvency filing, court judgment or payment default registered elsewhere."""

    __tablename__ = "adverse_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
