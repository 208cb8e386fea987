"""The exposure aggregates: one grouped, indexed query over a buyer's (or a group's) open
invoices and one over its open orders, instead of keeping running totals that FX changes would
invalidate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Date, and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.accounts.models import CreditAccount, TemporaryIncrease
from creditguard_limits.checks.models import OrderReservation
from creditguard_limits.exposure.rules import OVERDUE_BUCKET_STARTS, InvoiceTotals
from creditguard_limits.insurance.models import InsuranceCover, InsurancePolicy
from creditguard_limits.ledger.models import MONEY, Invoice


def _members(group_id: str):  # type: ignore[no-untyped-def]
    return select(CreditAccount.buyer_id).where(CreditAccount.group_id == group_id).scalar_subquery()


def _buyer_filter(column, *, buyer_id: str | None, group_id: str | None) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    return column == buyer_id if buyer_id is not None else column.in_(_members(group_id or ""))


class ExposureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def invoice_totals(self, *, today: date, buyer_id: str | None = None, group_id: str | None = None) -> list[InvoiceTotals]:
        past_due = [
            type_coerce(func.sum(case((Invoice.due_on <= today - timedelta(days=start), Invoice.open_amount), else_=0)), MONEY)
            for _, start in OVERDUE_BUCKET_STARTS
        ]
        oldest = type_coerce(func.min(case((Invoice.due_on < today, Invoice.due_on), else_=None)), Date)
        statement = (
            select(Invoice.currency, type_coerce(func.sum(Invoice.open_amount), MONEY), oldest, *past_due)
            .where(_buyer_filter(Invoice.buyer_id, buyer_id=buyer_id, group_id=group_id), Invoice.open_amount > 0)
            .group_by(Invoice.currency)
        )
        totals = []
        for currency, open_amount, oldest_due, *cumulative in (await self.session.execute(statement)).all():
            totals.append(InvoiceTotals(
                currency=currency,
                open_amount=Decimal(open_amount or 0),
                past_due_at_least={start: Decimal(value or 0) for (_, start), value in zip(OVERDUE_BUCKET_STARTS, cumulative)},
                oldest_overdue_due_on=oldest_due,
            ))
        return totals

    async def order_totals(self, *, today: date, buyer_id: str | None = None, group_id: str | None = None) -> dict[str, Decimal]:
        statement = (
            select(OrderReservation.currency, type_coerce(func.sum(OrderReservation.amount), MONEY))
            .where(
                _buyer_filter(OrderReservation.buyer_id, buyer_id=buyer_id, group_id=group_id),
                OrderReservation.status == "open",
                OrderReservation.expires_on >= today,
            )
            .group_by(OrderReservation.currency)
        )
        return {currency: Decimal(amount or 0) for currency, amount in (await self.session.execute(statement)).all()}

    async def temporary_increase(self, *, buyer_id: str, today: date) -> Decimal:
        statement = select(type_coerce(func.coalesce(func.sum(TemporaryIncrease.amount), 0), MONEY)).where(
            TemporaryIncrease.buyer_id == buyer_id,
            TemporaryIncrease.cancelled_at.is_(None),
            and_(TemporaryIncrease.valid_from <= today, TemporaryIncrease.valid_until >= today),
        )
        return Decimal((await self.session.execute(statement)).scalar_one() or 0)

    async def cover(self, *, buyer_id: str, today: date) -> tuple[InsuranceCover, InsurancePolicy] | None:
        statement = (
            select(InsuranceCover, InsurancePolicy)
            .join(InsurancePolicy, InsurancePolicy.policy_id == InsuranceCover.policy_id)
            .where(
                InsuranceCover.buyer_id == buyer_id,
                (InsuranceCover.valid_from.is_(None)) | (InsuranceCover.valid_from <= today),
                (InsuranceCover.valid_until.is_(None)) | (InsuranceCover.valid_until >= today),
            )
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None
