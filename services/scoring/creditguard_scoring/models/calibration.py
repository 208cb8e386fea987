from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_scoring.database import Base
from creditguard_shared.database import UtcDateTime


class CalibrationVersion(Base):
    """A calibration a credit manager applied, with the back-test it was fitted on. Version 0 (the
    settings' calibration) is not stored; the highest version is in force."""

    __tablename__ = "calibrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    method: Mapped[str] = mapped_column(String(16))  # intercept | logistic
    intercept: Mapped[float] = mapped_column(Float)
    slope: Mapped[float] = mapped_column(Float)
    pivot: Mapped[float] = mapped_column(Float)
    # The calibration it replaced, and the back-test (window, figures by grade) it was fitted on.
    previous_version: Mapped[int] = mapped_column(Integer)
    backtest: Mapped[dict] = mapped_column(JSON)
    applied_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
