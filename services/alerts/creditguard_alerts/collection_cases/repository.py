from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.models.collection_cases import CollectionAction, CollectionCase, CollectionStrategy
from creditguard_shared.held import Held

OPEN, CLOSED = "open", "closed"
PENDING = "pending"
# The cases of the invoices a pass read at once (None where an invoice has none), and the
# strategies by id, read once per unit of work.
_CASES_BY_INVOICE: Held[dict[str, Any]] = Held("alerts.cases_by_invoice", dict)
_STRATEGIES: Held[dict[Any, Any]] = Held("alerts.strategies_by_id")
_IN_LIST_CHUNK = 500


class CollectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entity: CollectionStrategy | CollectionCase | CollectionAction) -> None:
        """Written at the next flush (the next query or the commit): a sweep's many new rows go
        out together, not one statement each. Every column is set here; nothing is read back."""
        self.session.add(entity)
        loaded = _CASES_BY_INVOICE.peek(self.session)
        if isinstance(entity, CollectionCase) and loaded is not None:
            loaded[entity.invoice_id] = entity
        strategies = _STRATEGIES.peek(self.session)
        if isinstance(entity, CollectionStrategy) and strategies is not None:
            strategies[entity.id] = entity

    async def strategy(self, strategy_id: str) -> CollectionStrategy | None:
        """Strategies are few and every case asks for its own: all of them are read once per unit
        of work and held here. (The session's identity map holds objects weakly, so a strategy
        nobody referenced was read again, after an autoflush, for each case of a sweep.)"""
        return (await self._strategies_of_unit_of_work()).get(strategy_id)

    async def enabled_strategies(self) -> list[CollectionStrategy]:
        """In the order they are tried (priority, then id), from the same copy as ``strategy``:
        a sweep opening many cases chose each one's strategy with a query."""
        return sorted((s for s in (await self._strategies_of_unit_of_work()).values() if s.enabled), key=lambda s: (s.priority, s.id))

    async def _strategies_of_unit_of_work(self) -> dict[str, CollectionStrategy]:
        strategies = _STRATEGIES.peek(self.session)
        if strategies is None:
            strategies = _STRATEGIES.put(self.session, {s.id: s for s in await self.strategies()})
        return strategies

    async def strategies(self, *, enabled_only: bool = False) -> list[CollectionStrategy]:
        statement = select(CollectionStrategy).order_by(CollectionStrategy.priority, CollectionStrategy.id)
        if enabled_only:
            statement = statement.where(CollectionStrategy.enabled.is_(True))
        return list((await self.session.execute(statement)).scalars())

    async def strategy_count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(CollectionStrategy))).scalar_one()

    async def case(self, case_id: str) -> CollectionCase | None:
        return await self.session.get(CollectionCase, case_id)

    async def load_cases_for_invoices(self, invoice_ids: list[str]) -> None:
        """Read the cases of these invoices at once, for a pass or a batch of events that asks
        ``case_for_invoice`` about each."""
        loaded: dict[str, CollectionCase | None] = _CASES_BY_INVOICE.get(self.session)
        loaded.update(dict.fromkeys(invoice_ids))
        for start in range(0, len(invoice_ids), _IN_LIST_CHUNK):
            chunk = invoice_ids[start : start + _IN_LIST_CHUNK]
            for case in (await self.session.execute(select(CollectionCase).where(CollectionCase.invoice_id.in_(chunk)))).scalars():
                loaded[case.invoice_id] = case

    async def case_for_invoice(self, invoice_id: str) -> CollectionCase | None:
        loaded = _CASES_BY_INVOICE.peek(self.session)
        if loaded is not None and invoice_id in loaded:
            return loaded[invoice_id]
        return (await self.session.execute(select(CollectionCase).where(CollectionCase.invoice_id == invoice_id))).scalar_one_or_none()

    async def open_cases(self) -> list[CollectionCase]:
        return list((await self.session.execute(select(CollectionCase).where(CollectionCase.status == OPEN))).scalars())

    async def buyer_holds_other_than(self, *, buyer_id: str, case_id: str) -> bool:
        statement = (
            select(func.count())
            .select_from(CollectionCase)
            .where(
                CollectionCase.buyer_id == buyer_id,
                CollectionCase.status == OPEN,
                CollectionCase.hold_requested.is_(True),
                CollectionCase.id != case_id,
            )
        )
        return (await self.session.execute(statement)).scalar_one() > 0

    async def page_cases(self, *, buyer_id: str | None, status: str | None, level: str | None, limit: int, offset: int) -> tuple[list[CollectionCase], int]:
        conditions = []
        if buyer_id is not None:
            conditions.append(CollectionCase.buyer_id == buyer_id)
        if status is not None:
            conditions.append(CollectionCase.status == status)
        if level is not None:
            conditions.append(CollectionCase.level == level)
        total = (await self.session.execute(select(func.count()).select_from(CollectionCase).where(*conditions))).scalar_one()
        statement = select(CollectionCase).where(*conditions).order_by(CollectionCase.days_past_due.desc(), CollectionCase.id).limit(limit).offset(offset)
        return list((await self.session.execute(statement)).scalars()), total

    async def actions(self, case_id: str) -> list[CollectionAction]:
        statement = select(CollectionAction).where(CollectionAction.case_id == case_id).order_by(CollectionAction.id)
        return list((await self.session.execute(statement)).scalars())

    async def close_pending(self, *, case_id: str, status: str, at: datetime) -> None:
        statement = (
            update(CollectionAction)
            .where(CollectionAction.case_id == case_id, CollectionAction.status == PENDING)
            .values(status=status, completed_at=at)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.execute(statement)

    async def work_queue(self, *, due_before: date, buyer_id: str | None, limit: int, offset: int) -> tuple[list[tuple[CollectionAction, CollectionCase]], int]:
        conditions = [CollectionAction.status == PENDING, CollectionAction.due_on <= due_before]
        if buyer_id is not None:
            conditions.append(CollectionAction.buyer_id == buyer_id)
        total = (await self.session.execute(select(func.count()).select_from(CollectionAction).where(*conditions))).scalar_one()
        statement = (
            select(CollectionAction, CollectionCase)
            .join(CollectionCase, CollectionCase.id == CollectionAction.case_id)
            .where(*conditions)
            .order_by(CollectionAction.due_on, CollectionCase.days_past_due.desc(), CollectionAction.id)
            .limit(limit)
            .offset(offset)
        )
        return [(a, c) for a, c in await self.session.execute(statement)], total

    async def open_counts_by_level(self) -> dict[str, int]:
        rows = await self.session.execute(select(CollectionCase.level, func.count()).where(CollectionCase.status == OPEN).group_by(CollectionCase.level))
        return dict(rows.all())
