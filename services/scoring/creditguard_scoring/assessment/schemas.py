from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ReasonOut(BaseModel):
    code: str
    message: str
    contribution: float


class ScoreOut(BaseModel):
    buyer_id: str
    assessment_id: str
    pd: float
    grade: int
    risk_class: str
    reasons: list[ReasonOut]
    assessed_at: datetime
    model_version: str
    financial_data_missing: bool
    components: dict[str, Any]
    data: dict[str, Any]


class AssessmentOut(ScoreOut):
    model_config = ConfigDict(from_attributes=True)

    trigger: str
    inputs: dict[str, Any]


class AssessmentPage(BaseModel):
    items: list[AssessmentOut]
    total: int
    limit: int
    offset: int


class BuyerListItem(BaseModel):
    buyer_id: str
    name: str
    country: str
    industry: str | None
    group_id: str | None
    account_owner: str | None
    pd: float | None
    grade: int | None
    risk_class: str | None
    assessed_at: datetime | None


class BuyerPage(BaseModel):
    items: list[BuyerListItem]
    total: int
    limit: int
    offset: int


class BuyerIds(BaseModel):
    buyer_ids: list[str]
    # True when there were more than the limit asked for.
    truncated: bool


class PeerMetric(BaseModel):
    value: float | None
    percentile: float | None
    better_than: float | None
    peers: int | None


class PeersOut(BaseModel):
    buyer_id: str
    country: str
    industry_section: str | None
    assessed_at: datetime
    statement_date: date | None
    industry_and_country: dict[str, PeerMetric]
    book: dict[str, PeerMetric]


class PassOut(BaseModel):
    assessed: int
    failed: int = 0
    seconds: float
    buyers_per_second: float | None = None
