from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditguard_shared.schema_types import CurrencyCode, Identifier, IsoDate, NonNegativeAmount, PositiveAmount

Reason = Annotated[str, Field(min_length=1, max_length=500)]
TermsDays = Annotated[int, Field(ge=0, le=365)]


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: NonNegativeAmount
    currency: CurrencyCode
    payment_terms_days: TermsDays
    review_on: IsoDate | None = None
    reason: Reason


class ImportedLimit(BaseModel):
    """An existing book's limit for a buyer: set as a manual limit (reason "imported book")."""

    model_config = ConfigDict(extra="forbid")

    amount: NonNegativeAmount
    currency: CurrencyCode
    payment_terms_days: TermsDays
    review_on: IsoDate | None = None


class TemporaryIncreaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveAmount
    valid_from: IsoDate
    valid_until: IsoDate
    reason: Reason

    @model_validator(mode="after")
    def _window(self) -> TemporaryIncreaseIn:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self


class TemporaryIncreaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    increase_id: str
    buyer_id: str
    amount: Decimal
    valid_from: date
    valid_until: date
    reason: str
    created_by: str
    cancelled_at: datetime | None


class LimitEconomicsOut(BaseModel):
    """Per unit of exposure and per year: M = margin x 365 / D, E = PD12 x LGD, C = cost of capital."""

    margin_rate: Decimal
    pd_12m: Decimal
    terms_days: int
    expected_days_late: Decimal
    exposure_days: Decimal
    margin_per_year: Decimal
    expected_loss_rate: Decimal
    financing_rate: Decimal
    net_rate: Decimal
    capacity_limit: Decimal
    max_expected_loss_share: Decimal
    appetite_limit: Decimal | None
    economic_limit: Decimal
    expected_contribution_per_year: Decimal


class RecommendationOut(BaseModel):
    currency: str
    grade: int | None
    capacity_limit: Decimal
    economic_limit: Decimal
    ramp_up_fraction: Decimal
    amount: Decimal
    max_single_order: Decimal
    max_terms_days: int
    conditions: list[dict]
    economics: LimitEconomicsOut


class LimitOut(BaseModel):
    buyer_id: str
    amount: Decimal | None
    currency: str | None
    payment_terms_days: int | None
    review_on: date | None
    limit_source: str | None
    status: str
    status_reason: str | None
    flags: list[str]
    group_id: str | None
    temporary_increase: Decimal
    effective_limit: Decimal | None
    temporary_increases: list[TemporaryIncreaseOut]
    grade: int | None
    risk_class: str | None
    relationship_since: date | None
    recommendation: RecommendationOut | None


class GroupLimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: NonNegativeAmount
    currency: CurrencyCode
    review_on: IsoDate | None = None
    reason: Reason


class GroupOut(BaseModel):
    group_id: str
    amount: Decimal
    currency: str
    review_on: date | None
    members: list[str]
    exposure: Decimal
    available: Decimal


class GroupMembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: Identifier | None
    reason: Reason


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "on_hold", "blocked"]
    reason: Reason


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    old_values: dict
    new_values: dict
    reason: str | None
    changed_by: str
    changed_at: datetime

    @field_validator("old_values", "new_values", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value
