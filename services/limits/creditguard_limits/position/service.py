from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from creditguard_limits.context import LimitsContext
from creditguard_limits.fx.rules import RateTable
from creditguard_limits.fx.service import rate_table
from creditguard_limits.models.accounts import CreditAccount, CreditGroup
from creditguard_limits.position.repository import AccountSnapshot, CoverTerms, ExposureTotals, LimitTerms, PositionRepository
from creditguard_limits.position.rules import ZERO, Cover, GroupPosition, Position, compute_exposure
from creditguard_shared.errors import NotFound
from creditguard_shared.events.contracts import ExposureChangedV1, LimitBreachedV1
from creditguard_shared.held import Held
from creditguard_shared.unit_of_work import UnitOfWork

T = TypeVar("T")


async def lock_or_create_account(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str) -> CreditAccount:
    """The buyer's account, locked for this transaction (created, active and without a limit, if
    new): every change to a buyer's limit, status or exposure takes this lock first."""
    return await PositionRepository(uow.session).lock_or_create(buyer_id, now=context.clock.now())


async def lock_group(uow: UnitOfWork, *, group_id: str) -> CreditGroup | None:
    return await PositionRepository(uow.session).group(group_id, for_update=True)


async def position_of(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    account: CreditAccount | AccountSnapshot,
    rates: RateTable,
    today: date,
    lock_group: bool = False,
    terms: LimitTerms | None = None,
    totals: ExposureTotals | None = None,
) -> Position:
    """The account's position in its limit's currency (the reporting currency while it has none).
    ``lock_group`` takes the group row's lock after the account's: always in that order. Callers
    that already read the limit terms or the totals pass them in."""
    repository = PositionRepository(uow.session)
    currency = account.currency or context.settings.reporting_currency
    if totals is None:
        totals = await repository.totals(today=today, buyer_id=account.buyer_id)
    if terms is None:
        terms = await repository.limit_terms(buyer_id=account.buyer_id, today=today)
    return Position(
        buyer_id=account.buyer_id,
        currency=currency,
        base_limit=account.limit_amount,
        temporary_increase=terms.temporary_increase if account.limit_amount is not None else ZERO,
        exposure=compute_exposure(invoices=totals.invoices, orders=totals.orders, rates=rates, currency=currency, today=today, cash=totals.cash),
        group=await _group_position(uow, account=account, rates=rates, currency=currency, today=today, lock=lock_group),
        cover=_cover(terms.cover, rates=rates, currency=currency),
    )


@dataclass(frozen=True)
class LockedAccount:
    """A buyer's account, locked for the transaction, with what its position is computed from."""

    account: CreditAccount
    terms: LimitTerms
    totals: ExposureTotals
    rates: RateTable


async def _lock_creating(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, lock_and_read: Callable[[str, date], Awaitable[T | None]]) -> T:
    """``lock_and_read`` locks the buyer's account and reads it (None if the buyer has none): a
    new buyer's account is created first (active, without a limit)."""
    today = context.clock.today()
    found = await lock_and_read(buyer_id, today)
    if found is None:
        await PositionRepository(uow.session).lock_or_create(buyer_id, now=context.clock.now())
        found = await lock_and_read(buyer_id, today)
        assert found is not None
    return found


async def lock_with_terms(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str) -> tuple[CreditAccount, LimitTerms]:
    """Lock the buyer's account (creating it if new) and read its limit terms, in one statement."""
    repository = PositionRepository(uow.session)
    return await _lock_creating(
        uow, context=context, buyer_id=buyer_id, lock_and_read=lambda buyer, today: repository.locked_account_with_terms(buyer_id=buyer, today=today)
    )


# Accounts a batch locked and read at once (``lock_accounts_ahead``), by buyer.
_LOCKED_AHEAD: Held[dict[str, LockedAccount]] = Held("limits.accounts_locked_ahead", dict)


async def lock_many_with_terms(uow: UnitOfWork, *, context: LimitsContext, buyer_ids: set[str]) -> dict[str, tuple[CreditAccount, LimitTerms]]:
    """``lock_with_terms`` for many buyers: the existing accounts in one statement, in id order
    (the order every batch locks in, so two batches cannot each hold a lock the other waits
    for); new buyers' accounts are created after them, one by one."""
    locked = await PositionRepository(uow.session).locked_accounts_with_terms(buyer_ids=sorted(buyer_ids), today=context.clock.today())
    for buyer_id in sorted(buyer_ids - locked.keys()):
        locked[buyer_id] = await lock_with_terms(uow, context=context, buyer_id=buyer_id)
    return locked


async def lock_accounts_ahead(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_ids: set[str],
    already_locked: Mapping[str, tuple[CreditAccount, LimitTerms]] | None = None,
) -> None:
    """For work on many buyers in one unit of work (a batch of assessments; the exposure events
    of a batch of documents): lock their accounts and read their terms, exposure totals and the
    exchange rates in two statements, where ``lock_account`` took two for each. The totals stay
    valid while the unit of work changes none of these buyers' invoices or orders;
    ``forget_locked_ahead`` drops a buyer whose documents change. ``already_locked``: accounts
    and terms this unit of work locked and read before (the lock holds until it ends), which
    are not read again."""
    if not buyer_ids:
        return
    already_locked = already_locked or {}
    locked = {buyer_id: already_locked[buyer_id] for buyer_id in buyer_ids if buyer_id in already_locked}
    if missing := buyer_ids - locked.keys():
        locked.update(await lock_many_with_terms(uow, context=context, buyer_ids=missing))
    totals = await PositionRepository(uow.session).totals_of_buyers(buyer_ids=sorted(locked), today=context.clock.today())
    _LOCKED_AHEAD.get(uow.session).update(
        {
            buyer_id: LockedAccount(
                account=account,
                terms=terms,
                totals=totals[buyer_id],
                rates=RateTable(reporting_currency=context.settings.reporting_currency, rates=totals[buyer_id].rates or {}),
            )
            for buyer_id, (account, terms) in locked.items()
        }
    )


def forget_locked_ahead(uow: UnitOfWork, *, buyer_id: str) -> None:
    if (ahead := _LOCKED_AHEAD.peek(uow.session)) is not None:
        ahead.pop(buyer_id, None)


async def lock_account(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_id: str,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
) -> LockedAccount:
    """Lock the buyer's account (creating it if new) and read its limit terms, exposure totals and
    the exchange rates in two statements (one, when ``locked`` holds the account and terms already;
    none, when ``lock_accounts_ahead`` read it for this unit of work)."""
    if (ahead := (_LOCKED_AHEAD.peek(uow.session) or {}).get(buyer_id)) is not None:
        return ahead
    account, terms = locked or await lock_with_terms(uow, context=context, buyer_id=buyer_id)
    totals = await PositionRepository(uow.session).totals(today=context.clock.today(), buyer_id=buyer_id, with_rates=True)
    assert totals.rates is not None
    return LockedAccount(
        account=account, terms=terms, totals=totals, rates=RateTable(reporting_currency=context.settings.reporting_currency, rates=totals.rates)
    )


async def locked_position(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_id: str,
    lock_group: bool = False,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
) -> tuple[CreditAccount, Position, RateTable]:
    """The hot path of credit checks and ledger postings: lock the account and read its position.
    ``locked``: the account and terms, if the caller locked the account already in this transaction."""
    account = await lock_account(uow, context=context, buyer_id=buyer_id, locked=locked)
    position = await position_of(
        uow,
        context=context,
        account=account.account,
        rates=account.rates,
        today=context.clock.today(),
        lock_group=lock_group,
        terms=account.terms,
        totals=account.totals,
    )
    return account.account, position, account.rates


async def _group_position(
    uow: UnitOfWork, *, account: CreditAccount | AccountSnapshot, rates: RateTable, currency: str, today: date, lock: bool
) -> GroupPosition | None:
    if account.group_id is None:
        return None
    group = await PositionRepository(uow.session).group(account.group_id, for_update=lock)
    if group is None:
        return None
    totals = await PositionRepository(uow.session).totals(today=today, group_id=group.group_id)
    group_exposure = compute_exposure(invoices=totals.invoices, orders=totals.orders, rates=rates, currency=currency, today=today, cash=totals.cash)
    return GroupPosition(
        group_id=group.group_id,
        limit=rates.convert(group.limit_amount, from_currency=group.currency, to_currency=currency),
        exposure=group_exposure.total,
    )


def _cover(terms: CoverTerms | None, *, rates: RateTable, currency: str) -> Cover | None:
    if terms is None:
        return None
    return Cover(
        policy_id=terms.policy_id,
        insurer=terms.insurer,
        granted=rates.convert(terms.granted_amount, from_currency=terms.currency, to_currency=currency),
        indemnity_percentage=terms.indemnity_percentage,
        max_credit_period_days=terms.max_credit_period_days,
        uninsured_action=terms.uninsured_action,
    )


def publish_position(uow: UnitOfWork, *, account: CreditAccount | AccountSnapshot, position: Position, announce_breach: bool = True) -> None:
    """exposure-changed after every change; limit-breached when exposure goes above the limit
    (unless ``announce_breach`` is False: an imported book's position is not news). Sets the
    account's ``breached`` flag: the ORM writes an entity's, ``publish_snapshot_position`` a
    snapshot's."""
    exposure = position.exposure
    uow.emit(
        ExposureChangedV1(
            buyer_id=account.buyer_id,
            currency=position.currency,
            limit=position.limit,
            exposure=exposure.total,
            open_invoices=exposure.open_invoices,
            open_orders=exposure.open_orders,
            unapplied_cash=exposure.unapplied_cash,
            overdue=exposure.overdue,
            available=position.available,
            utilisation=position.utilisation,
            insured=position.insured,
            uninsured=position.uninsured,
        ),
        subject=account.buyer_id,
    )
    over = position.limit is not None and exposure.total > position.limit
    if over and not account.breached and announce_breach:
        assert position.limit is not None
        uow.emit(
            LimitBreachedV1(
                buyer_id=account.buyer_id,
                limit=position.limit,
                exposure=exposure.total,
                excess=exposure.total - position.limit,
                currency=position.currency,
            ),
            subject=account.buyer_id,
        )
    if account.breached != over:
        # Assigned only when it changes: an ORM attribute set costs its events even when equal.
        account.breached = over


async def locked_snapshot_position(
    uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, lock_group: bool = False
) -> tuple[AccountSnapshot, Position, RateTable]:
    """``locked_position`` for the credit check, which changes nothing on the account but its
    ``breached`` flag: the account as a snapshot, and the account and totals read in two prepared
    statements sent to the driver (no ORM entity, no session statement)."""
    today = context.clock.today()
    repository = PositionRepository(uow.session)
    account, terms = await _lock_creating(
        uow, context=context, buyer_id=buyer_id, lock_and_read=lambda buyer, day: repository.locked_snapshot_with_terms(buyer_id=buyer, today=day)
    )
    totals = await repository.totals(today=today, buyer_id=buyer_id, with_rates=True)
    assert totals.rates is not None
    rates = RateTable(reporting_currency=context.settings.reporting_currency, rates=totals.rates)
    position = await position_of(uow, context=context, account=account, rates=rates, today=today, lock_group=lock_group, terms=terms, totals=totals)
    return account, position, rates


async def publish_snapshot_position(uow: UnitOfWork, *, account: AccountSnapshot, position: Position) -> None:
    """``publish_position`` for an account read by ``locked_snapshot_position``; writes its
    ``breached`` flag when it changes."""
    breached = account.breached
    publish_position(uow, account=account, position=position)
    if account.breached != breached:
        await PositionRepository(uow.session).save_breached(account)


async def refresh_exposure(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_id: str,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    announce_breach: bool = True,
) -> Position:
    """Lock the buyer's account (creating it if new), recompute and publish its position.
    ``locked``: the account and terms, if the caller locked the account already in this transaction."""
    account, position, _ = await locked_position(uow, context=context, buyer_id=buyer_id, locked=locked)
    publish_position(uow, account=account, position=position, announce_breach=announce_breach)
    return position


async def current_position(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str) -> tuple[CreditAccount, Position]:
    account = await uow.session.get(CreditAccount, buyer_id)
    if account is None:
        raise NotFound(f"Buyer {buyer_id} has no credit account.")
    return account, await position_of(uow, context=context, account=account, rates=await rate_table(uow, context=context), today=context.clock.today())
