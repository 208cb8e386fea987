from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.payment_behaviour.models import PaymentExperience, Settlement


class PaymentBehaviourRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_experience(self, invoice_id: str) -> PaymentExperience | None:
        return await self.session.get(PaymentExperience, invoice_id)

    async def get_settlement(self, settlement_id: str) -> Settlement | None:
        return await self.session.get(Settlement, settlement_id)

    async def add(self, entity: PaymentExperience | Settlement) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def settlements_for_invoice(self, invoice_id: str) -> list[Settlement]:
        statement = select(Settlement).where(Settlement.invoice_id == invoice_id).order_by(Settlement.settled_on)
        return list((await self.session.execute(statement)).scalars())

    async def experiences_for_buyer(self, buyer_id: str) -> list[PaymentExperience]:
        statement = select(PaymentExperience).where(PaymentExperience.buyer_id == buyer_id).order_by(PaymentExperience.due_on)
        return list((await self.session.execute(statement)).scalars())
