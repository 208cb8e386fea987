from __future__ import annotations

from datetime import date

from sqlalchemy import String, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from creditguard_limits.models.checks import CreditCheck, OrderReservation
from creditguard_shared.prepared import PreparedStatement, insert_of_every_column

# Every credit check runs these: prepared once and sent to the driver (creditguard_shared.prepared).
_LATEST_FOR_ORDER = PreparedStatement(
    select(CreditCheck.check_id).where(CreditCheck.order_id == bindparam("order_id", type_=String)).order_by(CreditCheck.created_at.desc()).limit(1)
)


class ChecksRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest_for_order(self, order_id: str) -> CreditCheck | None:
        # Most orders are new: one lean lookup, and the entity only when there is one.
        rows = await _LATEST_FOR_ORDER.rows(self.session, {"order_id": order_id})
        return None if not rows else await self.session.get(CreditCheck, rows[0][0])

    async def get(self, check_id: str) -> CreditCheck | None:
        return await self.session.get(CreditCheck, check_id)

    async def pending(self, *, limit: int) -> list[CreditCheck]:
        statement = select(CreditCheck).where(CreditCheck.state == "pending").order_by(CreditCheck.created_at).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def search(
        self,
        *,
        state: str | None,
        buyer_ids: list[str] | None,
        reason: str | None,
        decision: str | None,
        sort: str,
        limit: int,
        offset: int,
    ) -> tuple[list[CreditCheck], int]:
        conditions = []
        if state is not None:
            conditions.append(CreditCheck.state == state)
        if buyer_ids is not None:
            conditions.append(CreditCheck.buyer_id.in_(buyer_ids))
        if reason is not None:
            # Reasons are stored as JSON; the code is a lower-case identifier, so its quoted form
            # matches only the code field.
            conditions.append(CreditCheck.reasons.contains(f'"{reason}"', autoescape=True))
        if decision is not None:
            conditions.append(CreditCheck.decision == decision)
        column = {"created_at": CreditCheck.created_at, "amount": CreditCheck.amount, "exposure_after": CreditCheck.exposure_after}[sort.lstrip("-")]
        # check_id breaks ties so pages never overlap.
        order = (column.desc(), CreditCheck.check_id) if sort.startswith("-") else (column, CreditCheck.check_id)
        total = (await self.session.execute(select(func.count()).select_from(CreditCheck).where(*conditions))).scalar_one()
        rows = await self.session.execute(select(CreditCheck).where(*conditions).order_by(*order).limit(limit).offset(offset))
        return list(rows.scalars()), int(total)

    async def count_pending(self) -> int:
        return (await self.session.execute(select(func.count()).where(CreditCheck.state == "pending"))).scalar_one()

    async def reservation(self, order_id: str) -> OrderReservation | None:
        return await self.session.get(OrderReservation, order_id)

    async def load_reservations(self, order_ids: set[str]) -> None:
        """Read these orders' reservations into the session at once: ``reservation`` then finds
        them without a statement each."""
        if order_ids:
            (await self.session.execute(select(OrderReservation).where(OrderReservation.order_id.in_(order_ids)))).scalars().all()

    async def insert(self, entity: CreditCheck | OrderReservation) -> None:
        """A plain INSERT of a new check or reservation, then the object joins the session as if
        loaded: a later change to it in the transaction is flushed as an UPDATE like any other.
        On the credit-check path the ORM's unit-of-work INSERT cost more than the statement itself."""
        table = type(entity).__table__
        values = {column.key: getattr(entity, column.key) for column in table.columns}
        await insert_of_every_column(table).run(self.session, values)
        # Every column set on the object, so none is left expired (a lazy load cannot run here).
        for key, value in values.items():
            set_committed_value(entity, key, value)
        make_transient_to_detached(entity)
        self.session.add(entity)

    async def expire_reservations(self, *, before: date, now: object) -> list[str]:
        """Mark reservations past their expiry; returns the buyers whose exposure changed."""
        statement = (
            update(OrderReservation)
            .where(OrderReservation.status == "open", OrderReservation.expires_on < before)
            .values(status="expired", released_at=now)
            .returning(OrderReservation.buyer_id)
        )
        return sorted(set((await self.session.execute(statement)).scalars()))
