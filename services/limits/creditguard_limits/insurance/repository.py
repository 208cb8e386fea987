from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.insurance import InsuranceCover, InsurancePolicy


class InsuranceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_policy(self, policy_id: str) -> InsurancePolicy | None:
        return await self.session.get(InsurancePolicy, policy_id)

    async def get_cover(self, buyer_id: str) -> InsuranceCover | None:
        return await self.session.get(InsuranceCover, buyer_id)

    async def add(self, entity: InsurancePolicy | InsuranceCover) -> None:
        self.session.add(entity)
        await self.session.flush()
