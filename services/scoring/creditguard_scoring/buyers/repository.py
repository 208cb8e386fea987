from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.buyers.models import AdverseEvent, Buyer

# In ``session.info``: the profiles and adverse events of the buyers a pass read at once. Held
# here, because the session's identity map holds objects only weakly.
_BUYERS = "scoring.buyers_by_id"
_ADVERSE_EVENTS = "scoring.adverse_events_by_buyer"


class BuyerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, buyer_id: str) -> Buyer | None:
        loaded = self.session.info.get(_BUYERS)
        if loaded is not None and buyer_id in loaded:
            return loaded[buyer_id]
        return await self.session.get(Buyer, buyer_id)

    async def add(self, entity: Buyer | AdverseEvent) -> None:
        self.session.add(entity)
        await self.session.flush()
        if isinstance(entity, Buyer) and _BUYERS in self.session.info:
            self.session.info[_BUYERS][entity.buyer_id] = entity
        if isinstance(entity, AdverseEvent):
            self.session.info.get(_ADVERSE_EVENTS, {}).pop(entity.buyer_id, None)  # asked again, the database answers

    async def load_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read these buyers' profiles and adverse events at once, for a pass that asks ``get`` and
        ``adverse_events`` about each."""
        buyers = (await self.session.execute(select(Buyer).where(Buyer.buyer_id.in_(buyer_ids)))).scalars()
        self.session.info[_BUYERS] = dict.fromkeys(buyer_ids) | {b.buyer_id: b for b in buyers}
        events: dict[str, list[AdverseEvent]] = {buyer_id: [] for buyer_id in buyer_ids}
        for event in (await self.session.execute(_adverse_events_in_order().where(AdverseEvent.buyer_id.in_(buyer_ids)))).scalars():
            events[event.buyer_id].append(event)
        self.session.info[_ADVERSE_EVENTS] = events

    async def all_buyer_ids(self) -> list[str]:
        return list((await self.session.execute(select(Buyer.buyer_id).order_by(Buyer.buyer_id))).scalars())

    async def get_adverse_event(self, event_id: str) -> AdverseEvent | None:
        return await self.session.get(AdverseEvent, event_id)

    async def adverse_events(self, buyer_id: str) -> list[AdverseEvent]:
        loaded = self.session.info.get(_ADVERSE_EVENTS)
        if loaded is not None and buyer_id in loaded:
            return list(loaded[buyer_id])
        return list((await self.session.execute(_adverse_events_in_order().where(AdverseEvent.buyer_id == buyer_id))).scalars())


def _adverse_events_in_order() -> Select:
    return select(AdverseEvent).order_by(AdverseEvent.occurred_on, AdverseEvent.event_id)
