from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.buyers.models import BuyerProfile, InsuranceCover


class BuyerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, buyer_id: str) -> BuyerProfile | None:
        return await self.session.get(BuyerProfile, buyer_id)

    async def get_many(self, buyer_ids: set[str]) -> dict[str, BuyerProfile]:
        if not buyer_ids:
            return {}
        rows = await self.session.execute(select(BuyerProfile).where(BuyerProfile.buyer_id.in_(buyer_ids)))
        return {p.buyer_id: p for p in rows.scalars()}

    async def add(self, entity: BuyerProfile | InsuranceCover) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def cover(self, buyer_id: str) -> InsuranceCover | None:
        return await self.session.get(InsuranceCover, buyer_id)

    async def covers(self, buyer_ids: set[str]) -> dict[str, InsuranceCover]:
        if not buyer_ids:
            return {}
        rows = await self.session.execute(select(InsuranceCover).where(InsuranceCover.buyer_id.in_(buyer_ids)))
        return {c.buyer_id: c for c in rows.scalars()}

    async def with_review_due(self) -> list[BuyerProfile]:
        return list((await self.session.execute(select(BuyerProfile).where(BuyerProfile.review_due_on.is_not(None)))).scalars())

    async def exposures(self, currency: str) -> list[tuple[str, str | None, str | None, Decimal]]:
        """(buyer, country, industry, exposure) of every buyer with exposure in ``currency``."""
        rows = await self.session.execute(
            select(BuyerProfile.buyer_id, BuyerProfile.country, BuyerProfile.industry, BuyerProfile.exposure)
            .where(BuyerProfile.currency == currency, BuyerProfile.exposure > 0)
        )
        return [tuple(r) for r in rows]

    async def currencies(self) -> list[str]:
        rows = await self.session.execute(select(BuyerProfile.currency).where(BuyerProfile.currency.is_not(None)).group_by(BuyerProfile.currency))
        return [r[0] for r in rows]
