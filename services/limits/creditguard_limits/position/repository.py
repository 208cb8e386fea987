"""A buyer's position in SQL: locking its account (and group), its limit terms and cover, and the
exposure aggregates: grouped, indexed sums over a buyer's (or a group's) open invoices, open
orders and unapplied cash, instead of running totals that FX changes would invalidate."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import BindParameter, Date, String, and_, bindparam, case, cast, func, literal_column, null, or_, select, type_coerce, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.accounts import CreditAccount, CreditGroup, TemporaryIncrease
from creditguard_limits.models.checks import OrderReservation
from creditguard_limits.models.fx import FxRate
from creditguard_limits.models.insurance import InsuranceCover, InsurancePolicy
from creditguard_limits.models.ledger import Invoice, Payment, Refund
from creditguard_limits.policy.rules import UninsuredAction
from creditguard_limits.position.rules import OVERDUE_BUCKET_STARTS, ZERO, InvoiceTotals
from creditguard_shared.database import Money
from creditguard_shared.prepared import PreparedStatement


@dataclass(frozen=True)
class CoverTerms:
    """A buyer's current insurance cover with its policy's terms, in the cover's currency."""

    policy_id: str
    insurer: str
    currency: str
    granted_amount: Decimal
    indemnity_percentage: Decimal
    max_credit_period_days: int
    uninsured_action: UninsuredAction


@dataclass(frozen=True)
class LimitTerms:
    """What adds to or covers the account's own limit today."""

    temporary_increase: Decimal
    cover: CoverTerms | None


@dataclass(slots=True)
class AccountSnapshot:
    """A credit account's row as read under its lock, without an ORM entity: for the credit
    check, which changes nothing on the account but its ``breached`` flag (written back by
    ``PositionRepository.save_breached``). Same fields as ``CreditAccount``."""

    buyer_id: str
    group_id: str | None
    limit_amount: Decimal | None
    currency: str | None
    payment_terms_days: int | None
    review_on: date | None
    limit_source: str | None
    status: str
    status_reason: str | None
    flags: str
    breached: bool
    name: str | None
    country: str | None
    industry: str | None
    grade: int | None
    risk_class: str | None
    pd: Decimal | None
    equity: Decimal | None
    sales: Decimal | None
    statement_currency: str | None
    assessed_at: datetime | None
    invoices_settled: int
    invoices_paid_on_time: int
    days_late_total: int
    relationship_since: date | None
    purchases_12m: Decimal
    updated_at: datetime


_ACCOUNT_COLUMNS = [CreditAccount.__table__.c[field.name] for field in fields(AccountSnapshot)]


@dataclass(frozen=True)
class ExposureTotals:
    invoices: list[InvoiceTotals]
    orders: dict[str, Decimal]
    rates: dict[str, Decimal] | None = None
    # Unapplied cash by currency.
    cash: dict[str, Decimal] = field(default_factory=dict)


# Money sums and exchange rates come back in separate columns of the totals query: a UNION column
# has one type, and on SQLite money comes back as whole cents where rates do not.
_RATE = FxRate.__table__.c.rate.type
_BUCKETS = len(OVERDUE_BUCKET_STARTS)


# The hot statements are built once, with bind parameters: building a SQLAlchemy statement
# costs more CPU than SQLite takes to run it.
_TODAY = bindparam("today", type_=Date)
_BUYER = bindparam("buyer_id", type_=String)
_BUYERS: BindParameter[list[str]] = bindparam("buyer_ids", expanding=True)


def _terms_columns() -> tuple:
    current_increase = (
        select(func.coalesce(func.sum(TemporaryIncrease.amount), 0))
        .where(
            TemporaryIncrease.buyer_id == CreditAccount.buyer_id,
            TemporaryIncrease.cancelled_at.is_(None),
            TemporaryIncrease.valid_from <= _TODAY,
            TemporaryIncrease.valid_until >= _TODAY,
        )
        .scalar_subquery()
    )
    return (
        type_coerce(current_increase, Money()).label("temporary_increase"),
        InsurancePolicy.policy_id,
        InsurancePolicy.insurer,
        InsuranceCover.currency,
        InsuranceCover.granted_amount,
        InsurancePolicy.indemnity_percentage,
        InsurancePolicy.max_credit_period_days,
        InsurancePolicy.uninsured_action,
    )


def _from_account_with_current_cover(*columns, buyers=CreditAccount.buyer_id == _BUYER):
    current = and_(
        InsuranceCover.buyer_id == CreditAccount.buyer_id,
        (InsuranceCover.valid_from.is_(None)) | (InsuranceCover.valid_from <= _TODAY),
        (InsuranceCover.valid_until.is_(None)) | (InsuranceCover.valid_until >= _TODAY),
    )
    return (
        select(*columns)
        .select_from(CreditAccount)
        .outerjoin(InsuranceCover, current)
        .outerjoin(InsurancePolicy, InsurancePolicy.policy_id == InsuranceCover.policy_id)
        .where(buyers)
    )


# Locks the account row only: PostgreSQL refuses to lock the nullable side of an outer join.
_LOCKED_ACCOUNT_WITH_TERMS = _from_account_with_current_cover(CreditAccount, *_terms_columns()).with_for_update(of=CreditAccount)
# Many accounts at once, locked in buyer id order (the order every batch locks in: no deadlocks).
_LOCKED_ACCOUNTS_WITH_TERMS = (
    _from_account_with_current_cover(CreditAccount, *_terms_columns(), buyers=CreditAccount.buyer_id.in_(_BUYERS))
    .order_by(CreditAccount.buyer_id)
    .with_for_update(of=CreditAccount)
)
_LIMIT_TERMS = _from_account_with_current_cover(*_terms_columns())
# The same, as plain columns sent to the driver: the credit check's first statement.
_LOCKED_SNAPSHOT_WITH_TERMS = PreparedStatement(_from_account_with_current_cover(*_ACCOUNT_COLUMNS, *_terms_columns()).with_for_update(of=CreditAccount))
_SAVE_BREACHED = PreparedStatement(
    update(CreditAccount).where(CreditAccount.buyer_id == _BUYER).values(breached=bindparam("breached", type_=CreditAccount.__table__.c.breached.type))
)


def _past_due_since(start: int) -> str:
    return f"due_on_or_before_{start}"


@functools.cache
def _prepared_totals(*, owner: str, with_rates: bool) -> PreparedStatement:
    return PreparedStatement(_totals_statement(owner=owner, with_rates=with_rates))


@functools.cache
def _totals_statement(*, owner: str, with_rates: bool):
    """``owner``: "buyer" (one buyer's totals), "group" (its members' together) or "buyers"
    (each of a list of buyers' own, told apart by a second column holding the buyer id)."""

    def owned_by(column):
        if owner == "group":
            return column.in_(select(CreditAccount.buyer_id).where(CreditAccount.group_id == bindparam("group_id", type_=String)))
        if owner == "buyers":
            return column.in_(_BUYERS)
        return column == _BUYER

    def per_buyer(column):
        return [column] if owner == "buyers" else []

    past_due = [
        func.sum(case((Invoice.due_on <= bindparam(_past_due_since(start), type_=Date), Invoice.open_amount), else_=0)) for _, start in OVERDUE_BUCKET_STARTS
    ]
    oldest = func.min(case((Invoice.due_on < _TODAY, Invoice.due_on), else_=None))
    nothing = [null()] * len(OVERDUE_BUCKET_STARTS)
    branches = [
        select(
            literal_column("'invoices'"),
            *per_buyer(Invoice.buyer_id),
            Invoice.currency,
            func.sum(Invoice.open_amount),
            cast(null(), _RATE),
            type_coerce(oldest, Date),
            *past_due,
        )
        .where(owned_by(Invoice.buyer_id), Invoice.open_amount > 0)
        .group_by(*per_buyer(Invoice.buyer_id), Invoice.currency),
        select(
            literal_column("'orders'"),
            *per_buyer(OrderReservation.buyer_id),
            OrderReservation.currency,
            func.sum(OrderReservation.amount),
            null(),
            null(),
            *nothing,
        )
        .where(owned_by(OrderReservation.buyer_id), OrderReservation.status == "open", OrderReservation.expires_on >= _TODAY)
        .group_by(*per_buyer(OrderReservation.buyer_id), OrderReservation.currency),
    ]
    cash = unapplied_cash_rows(owned_by(Payment.buyer_id), owned_by(Refund.buyer_id))
    branches.append(
        select(
            literal_column("'cash'"), *per_buyer(cash.c.buyer_id), cash.c.currency, type_coerce(func.sum(cash.c.amount), Money()), null(), null(), *nothing
        ).group_by(*per_buyer(cash.c.buyer_id), cash.c.currency)
    )
    if with_rates:
        branches.append(select(literal_column("'rates'"), *per_buyer(type_coerce(null(), String)), FxRate.currency, null(), FxRate.rate, null(), *nothing))
    return union_all(*branches)


def _totals_parameters(today: date) -> dict[str, object]:
    return {"today": today, **{_past_due_since(start): today - timedelta(days=start) for _, start in OVERDUE_BUCKET_STARTS}}


def _add_totals_row(result: ExposureTotals, kind: str, currency: str, amount, rate, oldest_due, cumulative) -> None:
    if kind == "invoices":
        result.invoices.append(
            InvoiceTotals(
                currency=currency,
                open_amount=Decimal(amount or 0),
                past_due_at_least={start: Decimal(value or 0) for (_, start), value in zip(OVERDUE_BUCKET_STARTS, cumulative, strict=True)},
                oldest_overdue_due_on=oldest_due,
            )
        )
    elif kind == "orders":
        result.orders[currency] = Decimal(amount or 0)
    elif kind == "cash":
        if amount:
            result.cash[currency] = Decimal(amount)
    else:
        assert result.rates is not None
        result.rates[currency] = Decimal(rate)


def _limit_terms(row) -> LimitTerms:
    increase, policy_id, insurer, currency, granted, indemnity, max_days, action = row
    cover = None
    if policy_id is not None:
        cover = CoverTerms(
            policy_id=policy_id,
            insurer=insurer,
            currency=currency,
            granted_amount=Decimal(granted),
            indemnity_percentage=Decimal(indemnity),
            max_credit_period_days=max_days,
            uninsured_action=action,
        )
    return LimitTerms(temporary_increase=Decimal(increase or 0), cover=cover)


class PositionRepository:
    """Each read is one statement: on the credit-check path every statement costs a round trip
    (PostgreSQL) or a hop to the driver thread while the database is locked (SQLite)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _locked(self, buyer_id: str) -> CreditAccount | None:
        # On PostgreSQL this serialises every change to one buyer's exposure; SQLite's
        # BEGIN IMMEDIATE already serialises all writers.
        return (await self.session.execute(select(CreditAccount).where(CreditAccount.buyer_id == buyer_id).with_for_update())).scalar_one_or_none()

    async def lock_or_create(self, buyer_id: str, *, now: datetime) -> CreditAccount:
        """The buyer's account, locked for this transaction; created (active, no limit) if new."""
        account = await self._locked(buyer_id)
        if account is not None:
            return account
        dialect_insert = sqlite.insert if self.session.get_bind().dialect.name == "sqlite" else postgresql.insert
        await self.session.execute(
            dialect_insert(CreditAccount)
            .values(buyer_id=buyer_id, status="active", flags="[]", relationship_since=now.date(), updated_at=now)
            .on_conflict_do_nothing(index_elements=["buyer_id"])
        )
        account = await self._locked(buyer_id)
        assert account is not None
        return account

    async def group(self, group_id: str, *, for_update: bool = False) -> CreditGroup | None:
        statement = select(CreditGroup).where(CreditGroup.group_id == group_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def locked_account_with_terms(self, *, buyer_id: str, today: date) -> tuple[CreditAccount, LimitTerms] | None:
        """The account, locked for this transaction (the row only, not the outer-joined cover),
        with its limit terms; None if the buyer has no account yet."""
        row = (await self.session.execute(_LOCKED_ACCOUNT_WITH_TERMS, {"buyer_id": buyer_id, "today": today})).first()
        return None if row is None else (row[0], _limit_terms(row[1:]))

    async def locked_snapshot_with_terms(self, *, buyer_id: str, today: date) -> tuple[AccountSnapshot, LimitTerms] | None:
        """``locked_account_with_terms`` as an ``AccountSnapshot``, through the driver."""
        rows = await _LOCKED_SNAPSHOT_WITH_TERMS.rows(self.session, {"buyer_id": buyer_id, "today": today})
        if not rows:
            return None
        row, columns = rows[0], len(_ACCOUNT_COLUMNS)
        return AccountSnapshot(*row[:columns]), _limit_terms(row[columns:])

    async def save_breached(self, account: AccountSnapshot) -> None:
        await _SAVE_BREACHED.run(self.session, {"buyer_id": account.buyer_id, "breached": account.breached})

    async def limit_terms(self, *, buyer_id: str, today: date) -> LimitTerms:
        row = (await self.session.execute(_LIMIT_TERMS, {"buyer_id": buyer_id, "today": today})).first()
        return LimitTerms(temporary_increase=ZERO, cover=None) if row is None else _limit_terms(row)

    async def locked_accounts_with_terms(self, *, buyer_ids: list[str], today: date) -> dict[str, tuple[CreditAccount, LimitTerms]]:
        """``locked_account_with_terms`` for many buyers in one statement, locked in buyer id
        order; buyers without an account are left out."""
        rows = (await self.session.execute(_LOCKED_ACCOUNTS_WITH_TERMS, {"buyer_ids": buyer_ids, "today": today})).all()
        return {row[0].buyer_id: (row[0], _limit_terms(row[1:])) for row in rows}

    async def totals(self, *, today: date, buyer_id: str | None = None, group_id: str | None = None, with_rates: bool = False) -> ExposureTotals:
        """Open invoices (with their overdue buckets) and open orders per currency, and the
        exchange rates if asked for: one UNION ALL, told apart by its first column."""
        parameters = {**_totals_parameters(today), **({"buyer_id": buyer_id} if buyer_id is not None else {"group_id": group_id})}
        statement = _prepared_totals(owner="buyer" if buyer_id is not None else "group", with_rates=with_rates)
        result = ExposureTotals(invoices=[], orders={}, rates={} if with_rates else None)
        for kind, currency, amount, rate, oldest_due, *cumulative in await statement.rows(self.session, parameters):
            _add_totals_row(result, kind, currency, amount, rate, oldest_due, cumulative)
        return result

    async def totals_of_buyers(self, *, today: date, buyer_ids: list[str]) -> dict[str, ExposureTotals]:
        """Each buyer's ``totals`` (with the exchange rates, shared) in one statement."""
        rates: dict[str, Decimal] = {}
        results = {buyer_id: ExposureTotals(invoices=[], orders={}, rates=rates) for buyer_id in buyer_ids}
        statement = _totals_statement(owner="buyers", with_rates=True)
        for kind, buyer_id, currency, amount, rate, oldest_due, *cumulative in (
            await self.session.execute(statement, {**_totals_parameters(today), "buyer_ids": buyer_ids})
        ).all():
            if kind == "rates":
                rates[currency] = Decimal(rate)
            else:
                _add_totals_row(results[buyer_id], kind, currency, amount, rate, oldest_due, cumulative)
        return results


def unapplied_cash_rows(payments_of, refunds_of, *, currency: str | None = None, held: bool = True):
    """(buyer_id, currency, amount) rows that sum, per buyer and currency, to its unapplied cash:
    what payments left over after their invoices, less cash applied to other invoices, less
    refunds; with ``held``, also all of each payment held for an invoice not recorded yet.
    ``payments_of`` and ``refunds_of`` say whose (a condition on each table's buyer_id)."""
    payment_rows = select(
        Payment.buyer_id.label("buyer_id"),
        Payment.currency.label("currency"),
        case((Payment.from_unapplied_cash, -Payment.amount), else_=Payment.amount - func.coalesce(Payment.applied_amount, 0)).label("amount"),
    ).where(payments_of, or_(Payment.from_unapplied_cash, Payment.applied_amount < Payment.amount, *([Payment.applied_amount.is_(None)] if held else [])))
    refund_rows = select(Refund.buyer_id, Refund.currency, -Refund.amount).where(refunds_of)
    if currency is not None:
        payment_rows = payment_rows.where(Payment.currency == currency)
        refund_rows = refund_rows.where(Refund.currency == currency)
    return union_all(payment_rows, refund_rows).subquery("cash")
