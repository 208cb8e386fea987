from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_scoring.database import Base
from creditguard_shared.database import UtcDateTime


class Assessment(Base):
    """Every assessment ever made, with the inputs it rested on, the model version and the full explanation."""

    __tablename__ = "assessments"

    # Orders a buyer's history even when the clock stands still (tests, simulator).
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(String(32), unique=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    trigger: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(120))
    # The calibration that turned the score into this PD (0: the settings'; None: before calibrations).
    calibration_version: Mapped[int | None] = mapped_column(Integer)
    pd: Mapped[float] = mapped_column(Float)
    grade: Mapped[int] = mapped_column(Integer)
    risk_class: Mapped[str] = mapped_column(String(16))
    financial_data_missing: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(JSON)
    components: Mapped[dict] = mapped_column(JSON)
    inputs: Mapped[dict] = mapped_column(JSON)


class BuyerScore(Base):
    """The buyer's current assessment, denormalised for listing, change detection and peer ranks."""

    __tablename__ = "buyer_scores"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(String(32))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pd: Mapped[float] = mapped_column(Float)
    grade: Mapped[int] = mapped_column(Integer, index=True)
    risk_class: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    industry_section: Mapped[str | None] = mapped_column(String(1))
    statement_date: Mapped[date | None] = mapped_column(Date)
    payment_index: Mapped[float | None] = mapped_column(Float)
    equity_ratio: Mapped[float | None] = mapped_column(Float)
    current_ratio: Mapped[float | None] = mapped_column(Float)
    return_on_assets: Mapped[float | None] = mapped_column(Float)
    net_margin: Mapped[float | None] = mapped_column(Float)
    debt_ratio: Mapped[float | None] = mapped_column(Float)


class ReassessmentDue(Base):
    """A buyer whose payment behaviour changed; re-assessed once the burst of events is over."""

    __tablename__ = "reassessments_due"

    buyer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Pushed back by every new event (the debounce window) ...
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    # ... but never beyond this, so a steady stream of events cannot postpone it for ever.
    latest_at: Mapped[datetime] = mapped_column(UtcDateTime())
    marks: Mapped[int] = mapped_column(Integer)
