from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.models.buyers import AdverseEvent, Buyer
from creditguard_shared.held import Held

# The profiles and adverse events of the buyers a pass read at once. Held here, because the
# session's identity map holds objects only weakly.
_BUYERS: Held[dict[str, Buyer | None]] = Held("scoring.buyers_by_id")
_ADVERSE_EVENTS: Held[dict[str, Any]] = Held("scoring.adverse_events_by_buyer")


class BuyerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, buyer_id: str) -> Buyer | None:
        loaded = _BUYERS.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return loaded[buyer_id]
        return await self.session.get(Buyer, buyer_id)

    async def add(self, entity: Buyer | AdverseEvent) -> None:
        self.session.add(entity)
        await self.session.flush()
        if isinstance(entity, Buyer) and _BUYERS.held(self.session):
            _BUYERS.get(self.session)[entity.buyer_id] = entity
        if isinstance(entity, AdverseEvent):
            (_ADVERSE_EVENTS.peek(self.session) or {}).pop(entity.buyer_id, None)  # asked again, the database answers

    async def load_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read these buyers' profiles and adverse events at once, for a pass that asks ``get`` and
        ``adverse_events`` about each."""
        buyers = (await self.session.execute(select(Buyer).where(Buyer.buyer_id.in_(buyer_ids)))).scalars()
        _BUYERS.put(self.session, dict.fromkeys(buyer_ids) | {b.buyer_id: b for b in buyers})
        events: dict[str, list[AdverseEvent]] = {buyer_id: [] for buyer_id in buyer_ids}
        for event in (await self.session.execute(_adverse_events_in_order().where(AdverseEvent.buyer_id.in_(buyer_ids)))).scalars():
            events[event.buyer_id].append(event)
        _ADVERSE_EVENTS.put(self.session, events)

    async def all_buyer_ids(self) -> list[str]:
        return list((await self.session.execute(select(Buyer.buyer_id).order_by(Buyer.buyer_id))).scalars())

    async def get_adverse_event(self, event_id: str) -> AdverseEvent | None:
        return await self.session.get(AdverseEvent, event_id)

    async def adverse_events(self, buyer_id: str) -> list[AdverseEvent]:
        loaded = _ADVERSE_EVENTS.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return list(loaded[buyer_id])
        return list((await self.session.execute(_adverse_events_in_order().where(AdverseEvent.buyer_id == buyer_id))).scalars())


def _adverse_events_in_order() -> Select:
    return select(AdverseEvent).order_by(AdverseEvent.occurred_on, AdverseEvent.event_id)
