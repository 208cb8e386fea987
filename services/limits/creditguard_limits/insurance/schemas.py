from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditguard_limits.policy.rules import UninsuredAction
from creditguard_shared.schema_types import CurrencyCode, Identifier, IsoDate, NonNegativeAmount

Days = Annotated[int, Field(ge=0, le=3650)]


class InsurancePolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    insurer: Annotated[str, Field(min_length=1, max_length=200)]
    indemnity_percentage: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]
    max_credit_period_days: Days
    report_overdue_within_days: Days
    file_claim_within_days: Days
    uninsured_action: UninsuredAction = "referred"


class InsurancePolicyOut(InsurancePolicyIn):
    model_config = ConfigDict(from_attributes=True)

    policy_id: str


class InsuranceCoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_id: Identifier
    currency: CurrencyCode
    requested_amount: NonNegativeAmount
    granted_amount: NonNegativeAmount
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None

    @model_validator(mode="after")
    def _window(self) -> InsuranceCoverIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self


class InsuranceCoverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    buyer_id: str
    policy_id: str
    currency: str
    requested_amount: Decimal
    granted_amount: Decimal
    valid_from: date | None
    valid_until: date | None
    updated_by: str
    updated_at: datetime
