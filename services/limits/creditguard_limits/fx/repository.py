from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.fx import FxRate


class FxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_rates(self) -> dict[str, Decimal]:
        rows = await self.session.execute(select(FxRate.currency, FxRate.rate))
        return {currency: Decimal(rate) for currency, rate in rows}

    async def list(self) -> list[FxRate]:
        return list((await self.session.execute(select(FxRate).order_by(FxRate.currency))).scalars())

    async def get(self, currency: str) -> FxRate | None:
        return await self.session.get(FxRate, currency)

    async def add(self, rate: FxRate) -> None:
        self.session.add(rate)
        await self.session.flush()
