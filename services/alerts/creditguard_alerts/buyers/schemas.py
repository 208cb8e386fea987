from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class InsuranceCoverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    policy_id: str
    insurer: str
    currency: str
    insured_amount: Decimal
    report_overdue_within_days: int
    file_claim_within_days: int
    valid_from: date | None
    valid_until: date | None


class BuyerProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    buyer_id: str
    name: str | None
    country: str | None
    industry: str | None
    account_owner: str | None
    grade: int | None
    risk_class: str | None
    currency: str | None
    limit_amount: Decimal | None
    exposure: Decimal
    overdue: Decimal
    utilisation: float | None
    account_status: str
    review_due_on: date | None
    updated_at: datetime
    insurance_cover: InsuranceCoverOut | None = None


class BuyerProfilePage(BaseModel):
    items: list[BuyerProfileOut]
    total: int
    limit: int
    offset: int
