from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_alerts.database import Base, UtcDateTime


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rule_type: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    cooldown_seconds: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per rule and condition (buyer, invoice or portfolio group): raised in severity, never repeated.
        Index(
            "ix_alerts_one_open", "rule_id", "dedup_key", unique=True, postgresql_where=text("resolved_at IS NULL"), sqlite_where=text("resolved_at IS NULL")
        ),
        Index("ix_alerts_status_raised", "status", "raised_at"),
        # The last resolved alert of a condition (the cooldown check before raising a new one).
        Index("ix_alerts_condition_resolved", "rule_id", "dedup_key", "resolved_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_type: Mapped[str] = mapped_column(String(40))
    dedup_key: Mapped[str] = mapped_column(String(200))
    buyer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    # A portfolio group for concentration alerts ("country:DE") or a subscription id.
    subject: Mapped[str | None] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(10))
    raised_severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledge_comment: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_comment: Mapped[str | None] = mapped_column(Text)
