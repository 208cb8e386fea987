from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.statements.models import FinancialStatement


class StatementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_year(self, buyer_id: str, fiscal_year: int) -> FinancialStatement | None:
        statement = select(FinancialStatement).where(FinancialStatement.buyer_id == buyer_id, FinancialStatement.fiscal_year == fiscal_year)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add(self, statement: FinancialStatement) -> None:
        self.session.add(statement)
        await self.session.flush()

    async def newest_first(self, buyer_id: str, *, limit: int | None = None) -> list[FinancialStatement]:
        statement = (
            select(FinancialStatement).where(FinancialStatement.buyer_id == buyer_id)
            .order_by(FinancialStatement.fiscal_year.desc()).limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())
