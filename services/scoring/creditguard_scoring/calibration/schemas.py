from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from creditguard_shared.schema_types import IsoDate


class GradeBacktestOut(BaseModel):
    grade: int
    buyers: int
    defaults: int
    mean_pd: float | None = Field(description="Mean PD of the assessments in force at as_of")
    default_rate: float | None = Field(description="Share of the grade's buyers that defaulted within the horizon")
    interval_low: float | None = Field(description="Lower end of the exact (Clopper-Pearson) 95 % interval of the default rate")
    interval_high: float | None
    p_value: float | None = Field(description="Exact two-sided binomial test of the defaults against the mean PD")
    calibrated: bool | None = Field(description="Mean PD inside the 95 % interval or within a factor of two of the default rate")


class BacktestOut(BaseModel):
    as_of: date
    horizon_days: int
    window_end: date
    definition: str
    buyers: int
    defaults: int
    mean_pd: float | None
    default_rate: float | None
    brier_score: float | None
    auc: float | None
    grades: list[GradeBacktestOut]


class RecalibrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: IsoDate = Field(description="Start of the back-test window: the assessments in force at the end of this day")
    horizon_days: int = Field(365, ge=30, le=1825)
    method: Literal["intercept", "logistic"] = Field(
        "intercept", description="intercept: shift every PD's logit so the mean PD matches the default rate; logistic: fit intercept and slope"
    )
    reason: str = Field(min_length=3, max_length=2000)


class CalibrationOut(BaseModel):
    version: int
    method: str
    intercept: float
    slope: float
    pivot: float
    previous_version: int | None = None
    applied_by: str | None = None
    applied_at: datetime | None = None
    reason: str | None = None
    backtest: dict[str, Any] | None = None


class CalibrationStatusOut(BaseModel):
    current: CalibrationOut
    history: list[CalibrationOut]


class RecalibrationOut(BaseModel):
    calibration: CalibrationOut
    regraded: int = Field(description="Buyers re-assessed under the new calibration in this request")
    pending: int = Field(description="Buyers still marked for re-assessment (the due pass completes them)")
