from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_alerts.database import Base, Money, UtcDateTime


class CollectionStrategy(Base):
    __tablename__ = "collection_strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower is tried first; the first strategy whose segment matches the case wins.
    priority: Mapped[int] = mapped_column(Integer)
    risk_classes: Mapped[list[str] | None] = mapped_column(JSON)
    industries: Mapped[list[str] | None] = mapped_column(JSON)
    min_amount: Mapped[Decimal | None] = mapped_column(Money)
    max_amount: Mapped[Decimal | None] = mapped_column(Money)
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CollectionCase(Base):
    __tablename__ = "collection_cases"
    __table_args__ = (Index("ix_collection_cases_status_buyer", "status", "buyer_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64), unique=True)
    buyer_id: Mapped[str] = mapped_column(String(64))
    strategy_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[date] = mapped_column(Date)
    open_amount: Mapped[Decimal] = mapped_column(Money)
    days_past_due: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(40))
    level_index: Mapped[int] = mapped_column(Integer)
    promised_until: Mapped[date | None] = mapped_column(Date)
    promised_amount: Mapped[Decimal | None] = mapped_column(Money)
    disputed: Mapped[bool] = mapped_column(Boolean)
    hold_requested: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    close_reason: Mapped[str | None] = mapped_column(String(200))


class CollectionAction(Base):
    __tablename__ = "collection_actions"
    __table_args__ = (Index("ix_collection_actions_queue", "status", "due_on"),)

    # Ascending in the order things happened, also within one transaction.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    buyer_id: Mapped[str] = mapped_column(String(64))
    # A strategy level to carry out (pending until done), or something that happened (recorded).
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    actor: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
