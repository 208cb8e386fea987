from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import String, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.checks import CreditCheck, OrderReservation
from creditguard_shared.prepared import PreparedStatement, insert_of_every_column
from creditguard_shared.unit_of_work import UnitOfWork

# Every credit check runs these: prepared once and sent to the driver (creditguard_shared.prepared).
_LATEST_FOR_ORDER = PreparedStatement(
    select(CreditCheck.check_id).where(CreditCheck.order_id == bindparam("order_id", type_=String)).order_by(CreditCheck.created_at.desc()).limit(1)
)


@dataclass(slots=True)
class CheckRecord:
    """A new credit check as written: the ``credit_checks`` row without an ORM entity (same fields
    as ``CreditCheck``). The check's path builds one per order, where an entity's instrumented
    construction and its place in the session cost more than the INSERT. It is written when the
    transaction commits (``ChecksRepository.insert_check_at_commit``); changing it changes nothing."""

    check_id: str
    buyer_id: str
    order_id: str
    amount: Decimal
    currency: str
    payment_terms_days: int
    decision: str
    state: str
    reasons: str
    conditions: str
    limit_currency: str
    limit_amount: Decimal | None
    limit_basis: str | None
    exposure_before: Decimal
    exposure_after: Decimal
    available_credit: Decimal | None
    breakdown: str
    economics: str | None
    rules_version: str
    requested_by: str
    decided_by: str | None
    decision_comment: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    """A new open reservation for an order that has none: the ``order_reservations`` row."""

    order_id: str
    buyer_id: str
    check_id: str
    amount: Decimal
    currency: str
    expires_on: date
    created_at: datetime

    def row(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "buyer_id": self.buyer_id,
            "check_id": self.check_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": "open",
            "expires_on": self.expires_on,
            "created_at": self.created_at,
            "released_at": None,
        }


_CHECKS = cast(Table, CreditCheck.__table__)
_RESERVATIONS = cast(Table, OrderReservation.__table__)
_CHECK_COLUMNS = tuple(field.name for field in fields(CheckRecord))
assert set(_CHECK_COLUMNS) == {column.key for column in _CHECKS.columns}, "CheckRecord must have CreditCheck's columns"


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

    @staticmethod
    def insert_check_at_commit(uow: UnitOfWork, check: CheckRecord) -> None:
        """Written at the unit of work's commit with its events: on PostgreSQL the decision, the
        reservation and the outbox rows in one round trip. Nothing in the check's transaction
        reads them back."""
        uow.insert_at_commit(_CHECKS, {name: getattr(check, name) for name in _CHECK_COLUMNS})

    @staticmethod
    def insert_reservation_at_commit(uow: UnitOfWork, reservation: ReservationRecord) -> None:
        """See ``insert_check_at_commit``."""
        uow.insert_at_commit(_RESERVATIONS, reservation.row())

    async def insert_reservation(self, reservation: ReservationRecord) -> None:
        """Now, for a transaction that reads the exposure again before it commits."""
        await insert_of_every_column(_RESERVATIONS).run(self.session, reservation.row())

    async def expire_reservations(self, *, before: date, now: object) -> list[str]:
        """Mark reservations past their expiry; returns the buyers whose exposure changed."""
        statement = (
            update(OrderReservation)
            .where(OrderReservation.status == "open", OrderReservation.expires_on < before)
            .values(status="expired", released_at=now)
            .returning(OrderReservation.buyer_id)
        )
        return sorted(set((await self.session.execute(statement)).scalars()))
