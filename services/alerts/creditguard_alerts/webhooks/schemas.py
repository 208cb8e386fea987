from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from creditguard_alerts.models.severity import Severity
from creditguard_shared.schema_types import Identifier

EventType = Literal[
    "alert.raised",
    "alert.escalated",
    "alert.resolved",
    "collection.case_opened",
    "collection.level_changed",
    "collection.case_closed",
    "account.status_changed",
]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class SubscriptionFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer_ids: list[Identifier] | None = None
    account_owners: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = None
    # Alert events below this severity are not sent; other event types are not affected.
    min_severity: Severity | None = None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: Annotated[list[EventType], Field(min_length=1)]
    filter: SubscriptionFilter = SubscriptionFilter()
    description: Annotated[str, StringConstraints(max_length=500)] | None = None


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: Annotated[list[EventType], Field(min_length=1)] | None = None
    filter: SubscriptionFilter | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    enabled: bool | None = None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    filter: dict[str, Any]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    # Shown once: store it to verify signatures.
    secret: str


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_seconds: float
    succeeded: bool


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    event_type: str
    buyer_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_history: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class DispatchResult(BaseModel):
    attempted: int
