from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.models.statements import FinancialStatement
from creditguard_shared.held import Held

# The statements of the buyers a pass read at once, newest first.
_NEWEST_FIRST: Held[dict[str, Any]] = Held("scoring.statements_newest_first_by_buyer")


class StatementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read these buyers' statements at once, for a pass that asks ``newest_first`` about each."""
        by_buyer: dict[str, list[FinancialStatement]] = {buyer_id: [] for buyer_id in buyer_ids}
        statement = select(FinancialStatement).where(FinancialStatement.buyer_id.in_(buyer_ids)).order_by(FinancialStatement.fiscal_year.desc())
        for row in (await self.session.execute(statement)).scalars():
            by_buyer[row.buyer_id].append(row)
        _NEWEST_FIRST.put(self.session, by_buyer)

    async def for_year(self, buyer_id: str, fiscal_year: int) -> FinancialStatement | None:
        statement = select(FinancialStatement).where(FinancialStatement.buyer_id == buyer_id, FinancialStatement.fiscal_year == fiscal_year)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add(self, statement: FinancialStatement) -> None:
        self.session.add(statement)
        await self.session.flush()
        (_NEWEST_FIRST.peek(self.session) or {}).pop(statement.buyer_id, None)  # asked again, the database answers

    async def newest_first(self, buyer_id: str, *, limit: int | None = None) -> list[FinancialStatement]:
        loaded = _NEWEST_FIRST.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return loaded[buyer_id][:limit]
        statement = select(FinancialStatement).where(FinancialStatement.buyer_id == buyer_id).order_by(FinancialStatement.fiscal_year.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())
