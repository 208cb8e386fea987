from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, case, func, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.accounts import CreditAccount, TemporaryIncrease
from creditguard_limits.models.checks import OrderReservation
from creditguard_limits.models.insurance import InsuranceCover, InsurancePolicy
from creditguard_limits.models.ledger import Invoice
from creditguard_limits.position.repository import unapplied_cash_rows
from creditguard_limits.position.rules import OVERDUE_BUCKET_STARTS, InvoiceTotals
from creditguard_shared.database import Money


class PortfolioRepository:
    """The same aggregates as a buyer's exposure, grouped by buyer for the whole book."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accounts(self) -> list[CreditAccount]:
        return list((await self.session.execute(select(CreditAccount).order_by(CreditAccount.buyer_id))).scalars())

    async def invoice_totals_by_buyer(self, *, today: date) -> dict[str, list[InvoiceTotals]]:
        past_due = [
            type_coerce(func.sum(case((Invoice.due_on <= today - timedelta(days=start), Invoice.open_amount), else_=0)), Money())
            for _, start in OVERDUE_BUCKET_STARTS
        ]
        oldest = type_coerce(func.min(case((Invoice.due_on < today, Invoice.due_on), else_=None)), Date)
        statement = (
            select(Invoice.buyer_id, Invoice.currency, type_coerce(func.sum(Invoice.open_amount), Money()), oldest, *past_due)
            .where(Invoice.open_amount > 0)
            .group_by(Invoice.buyer_id, Invoice.currency)
        )
        totals: dict[str, list[InvoiceTotals]] = defaultdict(list)
        for buyer_id, currency, open_amount, oldest_due, *cumulative in (await self.session.execute(statement)).all():
            totals[buyer_id].append(
                InvoiceTotals(
                    currency=currency,
                    open_amount=Decimal(open_amount or 0),
                    oldest_overdue_due_on=oldest_due,
                    past_due_at_least={start: Decimal(v or 0) for (_, start), v in zip(OVERDUE_BUCKET_STARTS, cumulative, strict=True)},
                )
            )
        return totals

    async def order_totals_by_buyer(self, *, today: date) -> dict[str, dict[str, Decimal]]:
        statement = (
            select(OrderReservation.buyer_id, OrderReservation.currency, type_coerce(func.sum(OrderReservation.amount), Money()))
            .where(OrderReservation.status == "open", OrderReservation.expires_on >= today)
            .group_by(OrderReservation.buyer_id, OrderReservation.currency)
        )
        totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for buyer_id, currency, amount in (await self.session.execute(statement)).all():
            totals[buyer_id][currency] = Decimal(amount or 0)
        return totals

    async def cash_totals_by_buyer(self) -> dict[str, dict[str, Decimal]]:
        """Unapplied cash by buyer and currency, as a buyer's exposure counts it."""
        cash = unapplied_cash_rows(true(), true())
        statement = select(cash.c.buyer_id, cash.c.currency, type_coerce(func.sum(cash.c.amount), Money())).group_by(cash.c.buyer_id, cash.c.currency)
        totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for buyer_id, currency, amount in (await self.session.execute(statement)).all():
            if amount:
                totals[buyer_id][currency] = Decimal(amount)
        return totals

    async def temporary_increases_by_buyer(self, *, today: date) -> dict[str, Decimal]:
        statement = (
            select(TemporaryIncrease.buyer_id, type_coerce(func.sum(TemporaryIncrease.amount), Money()))
            .where(TemporaryIncrease.cancelled_at.is_(None), TemporaryIncrease.valid_from <= today, TemporaryIncrease.valid_until >= today)
            .group_by(TemporaryIncrease.buyer_id)
        )
        return {buyer_id: Decimal(amount or 0) for buyer_id, amount in (await self.session.execute(statement)).all()}

    async def covers_by_buyer(self, *, today: date) -> dict[str, tuple[InsuranceCover, InsurancePolicy]]:
        statement = (
            select(InsuranceCover, InsurancePolicy)
            .join(InsurancePolicy, InsurancePolicy.policy_id == InsuranceCover.policy_id)
            .where(
                (InsuranceCover.valid_from.is_(None)) | (InsuranceCover.valid_from <= today),
                (InsuranceCover.valid_until.is_(None)) | (InsuranceCover.valid_until >= today),
            )
        )
        return {cover.buyer_id: (cover, policy) for cover, policy in (await self.session.execute(statement)).all()}

    async def open_invoices(self) -> list[tuple[str, str, Decimal, date]]:
        statement = select(Invoice.buyer_id, Invoice.currency, Invoice.open_amount, Invoice.due_on).where(Invoice.open_amount > 0)
        return [(b, c, Decimal(a), d) for b, c, a, d in (await self.session.execute(statement)).all()]
