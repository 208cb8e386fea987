from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from creditguard_shared.schema_types import MAX_OFFSET, CurrencyCode, Identifier, PositiveAmount


class CreditCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer_id: Identifier
    order_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    payment_terms_days: Annotated[int, Field(ge=0, le=365)]
    # Prices the order with the policy's margin for this product line, if it names one.
    product_line: Identifier | None = None


class ReasonOut(BaseModel):
    code: str
    message: str


class ConditionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    amount: Decimal | None = None
    percentage: Decimal | None = None
    max_terms_days: int | None = None


class OrderEconomicsOut(BaseModel):
    """The order's expected contribution, in the limit's currency (docs/economics.md):
    expected_contribution = gross_margin - expected_loss - financing_cost - insurance_premium."""

    currency: str
    amount: Decimal
    credit_amount: Decimal
    margin_rate: Decimal
    gross_margin: Decimal
    pd_12m: Decimal
    terms_days: int
    expected_days_late: Decimal
    exposure_days: Decimal
    pd_over_period: Decimal
    loss_given_default: Decimal
    insured: Decimal
    uninsured: Decimal
    indemnity_share: Decimal
    expected_loss: Decimal
    financing_cost: Decimal
    insurance_premium: Decimal
    expected_contribution: Decimal
    # The most exposure the risk appetite accepts for the buyer (recommended limit before the
    # ramp-up); None without an assessment.
    economic_capacity: Decimal | None = None


class CreditCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="check_id")
    buyer_id: str
    order_id: str
    amount: Decimal
    currency: str
    payment_terms_days: int
    decision: Literal["approved", "approved_with_conditions", "referred", "rejected"]
    state: Literal["decided", "pending", "superseded"]
    reasons: list[ReasonOut]
    conditions: list[ConditionOut]
    # The limit the decision was made against; limit_basis says which: "limit" (the buyer's
    # limit with any temporary increase) or "economic_capacity" (a positive expected
    # contribution outweighed the limit, up to the economic capacity).
    limit: Decimal | None = Field(validation_alias="limit_amount")
    limit_basis: Literal["limit", "economic_capacity"] | None = None
    limit_currency: str
    exposure_before: Decimal
    exposure_after: Decimal
    available_credit: Decimal | None
    rules_version: str
    decided_by: str | None
    decision_comment: str | None
    created_at: datetime
    decided_at: datetime | None
    economics: OrderEconomicsOut | None = None

    @field_validator("created_at", "decided_at", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # SQLite hands timestamps back without their zone; they were written in UTC.
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @field_validator("reasons", "conditions", "economics", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class CreditCheckExplanation(CreditCheckOut):
    breakdown: dict

    @field_validator("breakdown", mode="before")
    @classmethod
    def _parse_breakdown(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


class ManualDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    comment: Annotated[str, Field(min_length=1, max_length=1000)]


class CreditCheckSearch(BaseModel):
    """Filters for the referral queue and a buyer's past decisions. A body rather than a query
    string: the buyers of a country or an owner can be thousands of ids."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["pending", "decided", "superseded"] | None = "pending"
    buyer_ids: Annotated[list[str], Field(max_length=100_000)] | None = Field(None, description="Only these buyers' checks")
    reason: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = Field(None, description="Only checks with this reason code")
    decision: Literal["approved", "approved_with_conditions", "referred", "rejected"] | None = None
    sort: Literal["created_at", "-created_at", "amount", "-amount", "exposure_after", "-exposure_after"] = "created_at"
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET)] = 0


class CreditCheckPage(BaseModel):
    items: list[CreditCheckOut]
    total: int
    limit: int
    offset: int


class ReservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_id: str
    buyer_id: str
    check_id: str
    amount: Decimal
    currency: str
    status: str
    expires_on: date
