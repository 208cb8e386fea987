from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.receivables.models import Receivable, ReceivableSettlement


class ReceivableRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, invoice_id: str) -> Receivable | None:
        return await self.session.get(Receivable, invoice_id)

    async def get_settlement(self, settlement_id: str) -> ReceivableSettlement | None:
        return await self.session.get(ReceivableSettlement, settlement_id)

    async def add(self, entity: Receivable | ReceivableSettlement) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def settlements_for(self, invoice_id: str) -> list[ReceivableSettlement]:
        return list((await self.session.execute(select(ReceivableSettlement).where(ReceivableSettlement.invoice_id == invoice_id))).scalars())

    async def for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.buyer_id == buyer_id).order_by(Receivable.due_on, Receivable.invoice_id)
        if open_only:
            statement = statement.where(Receivable.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())

    async def overdue_open(self, *, today: date) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.open_amount > 0, Receivable.due_on < today).order_by(Receivable.due_on, Receivable.invoice_id)
        return list((await self.session.execute(statement)).scalars())
