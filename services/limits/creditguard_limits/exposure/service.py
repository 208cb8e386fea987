from __future__ import annotations

from datetime import date

from creditguard_limits.accounts.models import CreditAccount
from creditguard_limits.accounts.repository import AccountsRepository
from creditguard_limits.context import LimitsContext
from creditguard_limits.exposure.repository import ExposureRepository
from creditguard_limits.exposure.rules import ZERO, Cover, GroupPosition, Position, compute_exposure
from creditguard_limits.fx.rules import RateTable
from creditguard_limits.fx.service import rate_table
from creditguard_shared.errors import NotFound
from creditguard_shared.events.contracts import ExposureChangedV1, LimitBreachedV1
from creditguard_shared.unit_of_work import UnitOfWork


async def position_of(
    uow: UnitOfWork, *, context: LimitsContext, account: CreditAccount, rates: RateTable, today: date, lock_group: bool = False
) -> Position:
    """The account's position in its limit's currency (the reporting currency while it has none).
    ``lock_group`` takes the group row's lock after the account's: always in that order."""
    repository = ExposureRepository(uow.session)
    currency = account.currency or context.settings.reporting_currency
    exposure = compute_exposure(
        invoices=await repository.invoice_totals(today=today, buyer_id=account.buyer_id),
        orders=await repository.order_totals(today=today, buyer_id=account.buyer_id),
        rates=rates, currency=currency, today=today,
    )
    increase = await repository.temporary_increase(buyer_id=account.buyer_id, today=today) if account.limit_amount is not None else ZERO
    return Position(
        buyer_id=account.buyer_id,
        currency=currency,
        base_limit=account.limit_amount,
        temporary_increase=increase,
        exposure=exposure,
        group=await _group_position(uow, account=account, rates=rates, currency=currency, today=today, lock=lock_group),
        cover=await _cover(repository, buyer_id=account.buyer_id, rates=rates, currency=currency, today=today),
    )


async def _group_position(uow: UnitOfWork, *, account: CreditAccount, rates: RateTable, currency: str, today: date, lock: bool) -> GroupPosition | None:
    if account.group_id is None:
        return None
    group = await AccountsRepository(uow.session).get_group(account.group_id, for_update=lock)
    if group is None:
        return None
    repository = ExposureRepository(uow.session)
    group_exposure = compute_exposure(
        invoices=await repository.invoice_totals(today=today, group_id=group.group_id),
        orders=await repository.order_totals(today=today, group_id=group.group_id),
        rates=rates, currency=currency, today=today,
    )
    return GroupPosition(
        group_id=group.group_id,
        limit=rates.convert(group.limit_amount, from_currency=group.currency, to_currency=currency),
        exposure=group_exposure.total,
    )


async def _cover(repository: ExposureRepository, *, buyer_id: str, rates: RateTable, currency: str, today: date) -> Cover | None:
    found = await repository.cover(buyer_id=buyer_id, today=today)
    if found is None:
        return None
    cover, policy = found
    return Cover(
        policy_id=policy.policy_id, insurer=policy.insurer,
        granted=rates.convert(cover.granted_amount, from_currency=cover.currency, to_currency=currency),
        indemnity_percentage=policy.indemnity_percentage, max_credit_period_days=policy.max_credit_period_days,
        uninsured_action=policy.uninsured_action,
    )


def publish_position(uow: UnitOfWork, *, account: CreditAccount, position: Position) -> None:
    """exposure-changed after every change; limit-breached when exposure goes above the limit."""
    exposure = position.exposure
    uow.emit(ExposureChangedV1(
        buyer_id=account.buyer_id, currency=position.currency, limit=position.limit, exposure=exposure.total,
        open_invoices=exposure.open_invoices, open_orders=exposure.open_orders, overdue=exposure.overdue,
        available=position.available, utilisation=position.utilisation, insured=position.insured, uninsured=position.uninsured,
    ), subject=account.buyer_id)
    over = position.limit is not None and exposure.total > position.limit
    if over and not account.breached:
        assert position.limit is not None
        uow.emit(LimitBreachedV1(
            buyer_id=account.buyer_id, limit=position.limit, exposure=exposure.total,
            excess=exposure.total - position.limit, currency=position.currency,
        ), subject=account.buyer_id)
    account.breached = over


async def refresh_exposure(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str) -> Position:
    """Lock the buyer's account (creating it if new), recompute and publish its position."""
    account = await AccountsRepository(uow.session).lock_or_create(buyer_id, now=context.clock.now())
    position = await position_of(uow, context=context, account=account, rates=await rate_table(uow, context=context), today=context.clock.today())
    publish_position(uow, account=account, position=position)
    return position


async def current_position(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str) -> tuple[CreditAccount, Position]:
    account = await AccountsRepository(uow.session).get(buyer_id)
    if account is None:
        raise NotFound(f"Buyer {buyer_id} has no credit account.")
    return account, await position_of(uow, context=context, account=account, rates=await rate_table(uow, context=context), today=context.clock.today())
