from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from creditguard_alerts.collection_cases.rules import Level
from creditguard_shared.events.contracts import RiskClassName
from creditguard_shared.schema_types import Identifier, IsoDate, NonNegativeAmount, PositiveAmount

ActionKind = Literal[
    "call",
    "email",
    "letter",
    "note",
    "promise_to_pay",
    "dispute",
    "dispute_resolved",
    "insurer_notified",
    "claim_filed",
    "legal_filed",
    "level_done",
]


class StrategyLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level
    days_past_due: Annotated[int, Field(ge=1, le=3650)]


class StrategyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    priority: Annotated[int, Field(ge=0, le=1000)] = 50
    # Scoring's classes (``very high`` is read as ``very_high``).
    risk_classes: list[RiskClassName] | None = None
    industries: list[Identifier] | None = None
    min_amount: NonNegativeAmount | None = None
    max_amount: NonNegativeAmount | None = None
    levels: Annotated[list[StrategyLevel], Field(min_length=1)]
    enabled: bool = True

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[StrategyLevel]) -> list[StrategyLevel]:
        days = [level.days_past_due for level in levels]
        if days != sorted(set(days)) or len({level.level for level in levels}) != len(levels):
            raise ValueError("levels must have strictly increasing days_past_due and each level at most once")
        return levels


class StrategyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    priority: int
    risk_classes: list[str] | None
    industries: list[str] | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    levels: list[dict[str, Any]]
    enabled: bool


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    comment: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] | None = None
    promised_on: IsoDate | None = None
    promised_amount: PositiveAmount | None = None

    @model_validator(mode="after")
    def _promise_has_date(self) -> ActionIn:
        if (self.kind == "promise_to_pay") != (self.promised_on is not None):
            raise ValueError("promised_on is required for promise_to_pay and only for it")
        return self


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: str
    buyer_id: str
    kind: str
    level: str | None
    status: str
    due_on: date | None
    created_at: datetime
    completed_at: datetime | None
    actor: str | None
    comment: str | None
    details: dict[str, Any]


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    invoice_id: str
    buyer_id: str
    strategy_id: str
    currency: str
    due_on: date
    open_amount: Decimal
    days_past_due: int
    status: str
    level: str
    promised_until: date | None
    promised_amount: Decimal | None
    disputed: bool
    hold_requested: bool
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str | None


class CaseDetail(CaseOut):
    actions: list[ActionOut]


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class WorkItem(BaseModel):
    action: ActionOut
    case: CaseOut


class WorkQueue(BaseModel):
    items: list[WorkItem]
    total: int
    limit: int
    offset: int
