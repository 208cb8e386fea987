from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.buyers.models import AdverseEvent, Buyer


class BuyerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, buyer_id: str) -> Buyer | None:
        return await self.session.get(Buyer, buyer_id)

    async def add(self, entity: Buyer | AdverseEvent) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def all_buyer_ids(self) -> list[str]:
        return list((await self.session.execute(select(Buyer.buyer_id).order_by(Buyer.buyer_id))).scalars())

    async def get_adverse_event(self, event_id: str) -> AdverseEvent | None:
        return await self.session.get(AdverseEvent, event_id)

    async def adverse_events(self, buyer_id: str) -> list[AdverseEvent]:
        statement = select(AdverseEvent).where(AdverseEvent.buyer_id == buyer_id).order_by(AdverseEvent.occurred_on, AdverseEvent.event_id)
        return list((await self.session.execute(statement)).scalars())
