"""CloudEvents 1.0 envelope, carried in structured mode (the whole event as the JSON message value)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from creditguard_shared.observability import current_correlation_id

if TYPE_CHECKING:
    from creditguard_shared.events.contracts import EventPayload

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


class EventEnvelope(BaseModel):
    """The envelope every topic carries. ``subject`` is the buyer id and also the Kafka key,
    so each buyer's events stay in order on one partition."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    # CloudEvents extension attribute (lower-case alphanumerics only, as the spec requires).
    correlationid: str | None = None
    data: dict[str, Any]

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    def to_bytes(self) -> bytes:
        return self.to_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        return cls.model_validate_json(raw)


def service_source(service: str) -> str:
    """The CloudEvents ``source`` of the events a creditguard service publishes."""
    return f"/creditguard/{service}"


def new_event(*, source: str, payload: EventPayload, subject: str, time: datetime | None = None, event_id: str | None = None) -> EventEnvelope:
    """Wrap a typed payload; its type and schema come from the catalogue."""
    from creditguard_shared.events.catalogue import event_type_for

    event_type = event_type_for(type(payload))
    # Id and time passed in rather than left to the fields' default factories, which cost pydantic
    # twice as much for an envelope that every state change writes, hundreds per ledger batch.
    return EventEnvelope(
        id=event_id or str(uuid.uuid4()),
        time=time or datetime.now(UTC),
        source=source,
        type=event_type,
        subject=subject,
        dataschema=f"https://creditguard.dev/schemas/{event_type}.json",
        correlationid=current_correlation_id(),
        data=payload.model_dump(mode="json"),
    )
