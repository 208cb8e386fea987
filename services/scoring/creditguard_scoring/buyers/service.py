"""Register and change buyer profiles and their adverse events. Assessment is triggered by the
caller (the route), so a profile write and its re-assessment commit together."""

from __future__ import annotations

import uuid
from datetime import datetime

from creditguard_scoring.buyers.repository import BuyerRepository
from creditguard_scoring.buyers.schemas import AdverseEventIn, BuyerIn
from creditguard_scoring.models.buyers import AdverseEvent, Buyer
from creditguard_shared.errors import Conflict, NotFound
from creditguard_shared.unit_of_work import UnitOfWork

PROFILE_FIELDS = ("name", "country", "industry", "registration_number", "legal_form", "founded_on", "group_id", "account_owner")


async def get_buyer(uow: UnitOfWork, *, buyer_id: str) -> Buyer:
    buyer = await BuyerRepository(uow.session).get(buyer_id)
    if buyer is None:
        raise NotFound(f"Buyer '{buyer_id}' is not registered.")
    return buyer


async def put_buyer(uow: UnitOfWork, *, buyer_id: str, profile: BuyerIn, now: datetime) -> tuple[Buyer, bool, bool]:
    """Create or replace the profile; returns (buyer, created, changed)."""
    repository = BuyerRepository(uow.session)
    buyer = await repository.get(buyer_id)
    values = profile.model_dump(include=set(PROFILE_FIELDS))
    if buyer is None:
        buyer = Buyer(buyer_id=buyer_id, created_at=now, updated_at=now, **values)
        await repository.add(buyer)
        return buyer, True, True
    changed = any(getattr(buyer, field) != value for field, value in values.items())
    if changed:
        for field, value in values.items():
            setattr(buyer, field, value)
        buyer.updated_at = now
        await uow.session.flush()
    return buyer, False, changed


async def record_adverse_event(uow: UnitOfWork, *, buyer_id: str, event: AdverseEventIn, now: datetime) -> tuple[AdverseEvent, bool, bool]:
    """Returns (event, created, changed)."""
    # Idempotent by event id: the same event again changes nothing; a different one under the same id is a conflict.
    await get_buyer(uow, buyer_id=buyer_id)
    repository = BuyerRepository(uow.session)
    event_id = event.event_id or uuid.uuid4().hex
    existing = await repository.get_adverse_event(event_id)
    fields = event.model_dump(exclude={"event_id"})
    if existing is not None:
        if existing.buyer_id != buyer_id or existing.kind != event.kind or existing.occurred_on != event.occurred_on:
            raise Conflict(f"Adverse event '{event_id}' was already recorded with other details.")
        if existing.resolved_on != event.resolved_on:
            # A later re-send may carry the resolution (dismissed filing, paid judgment).
            existing.resolved_on = event.resolved_on
            await uow.session.flush()
            return existing, False, True
        return existing, False, False
    adverse_event = AdverseEvent(event_id=event_id, buyer_id=buyer_id, recorded_at=now, **fields)
    await repository.add(adverse_event)
    return adverse_event, True, True


async def adverse_events(uow: UnitOfWork, *, buyer_id: str) -> list[AdverseEvent]:
    await get_buyer(uow, buyer_id=buyer_id)
    return await BuyerRepository(uow.session).adverse_events(buyer_id)
