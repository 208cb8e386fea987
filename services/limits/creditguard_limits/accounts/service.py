"""Account rules: every change is audited (who, when, old and new values, why) and followed by
the account's new position on exposure-changed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from creditguard_limits.accounts.repository import AccountsRepository
from creditguard_limits.accounts.rules import LIMIT_BELOW_EXPOSURE, Recommendation, audit_values, recommend, usual_terms_days, with_flag
from creditguard_limits.accounts.schemas import GroupLimitIn, ImportedLimit, LimitIn, TemporaryIncreaseIn
from creditguard_limits.context import LimitsContext
from creditguard_limits.economics.rules import expected_days_late
from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.fx.service import rate_table, require_rate
from creditguard_limits.models.accounts import CreditAccount, CreditGroup, LimitAudit, TemporaryIncrease
from creditguard_limits.position.repository import AccountSnapshot
from creditguard_limits.position.rules import Position
from creditguard_limits.position.service import LockedAccount, lock_account, lock_group, lock_or_create_account, position_of, publish_position
from creditguard_shared.errors import Conflict, NotFound, Unprocessable
from creditguard_shared.events.contracts import (
    AccountHoldRequestedV1,
    AccountStatusChangedV1,
    BuyerAssessedV1,
    LimitChangedV1,
)
from creditguard_shared.unit_of_work import UnitOfWork

IMPORT_REASON = "imported book"
LIMIT_FIELDS = ("limit_amount", "currency", "payment_terms_days", "review_on", "limit_source")
POLICY_ACTOR = "policy"


async def _audit(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    subject_type: str,
    subject_id: str,
    action: str,
    old: dict[str, Any],
    new: dict[str, Any],
    reason: str | None,
    changed_by: str,
) -> None:
    AccountsRepository(uow.session).add_audit(
        LimitAudit(
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            old_values=json.dumps(old),
            new_values=json.dumps(new),
            reason=reason,
            changed_by=changed_by,
            changed_at=context.clock.now(),
        )
    )


async def _republish(
    uow: UnitOfWork, *, context: LimitsContext, account: CreditAccount, rates: RateTable | None = None, locked: LockedAccount | None = None
) -> Position:
    """Recompute the position, keep the below-exposure flag current and publish it. ``locked``:
    the terms, totals and rates read with the account's lock, still current (a limit change
    alters neither)."""
    if locked is not None:
        position = await position_of(
            uow,
            context=context,
            account=account,
            rates=locked.rates,
            today=context.clock.today(),
            terms=locked.terms,
            totals=locked.totals,
        )
    else:
        position = await position_of(uow, context=context, account=account, rates=rates or await rate_table(uow, context=context), today=context.clock.today())
    below = position.limit is not None and position.exposure.total > position.limit
    account.flags = with_flag(account.flags, LIMIT_BELOW_EXPOSURE, present=below)
    publish_position(uow, account=account, position=position)
    return position


async def _change_limit(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    account: CreditAccount,
    amount: Decimal,
    currency: str,
    payment_terms_days: int | None,
    review_on: date | None,
    source: str,
    reason: str,
    changed_by: str,
) -> bool:
    old = audit_values(account, LIMIT_FIELDS)
    old_effective = account.limit_amount
    account.limit_amount, account.currency, account.limit_source = amount, currency, source
    account.payment_terms_days, account.review_on = payment_terms_days, review_on
    account.updated_at = context.clock.now()
    new = audit_values(account, LIMIT_FIELDS)
    if new == old:
        return False
    await _audit(
        uow, context=context, subject_type="buyer", subject_id=account.buyer_id, action="limit_set", old=old, new=new, reason=reason, changed_by=changed_by
    )
    uow.emit(
        LimitChangedV1(
            buyer_id=account.buyer_id,
            old_amount=old_effective,
            new_amount=amount,
            currency=currency,
            changed_by=changed_by,
            reason=reason,
            review_due_on=account.review_on,
        ),
        subject=account.buyer_id,
    )
    return True


async def set_limit(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, limit: LimitIn, changed_by: str) -> CreditAccount:
    """Lowering a limit below the current exposure is allowed; the account is flagged for review."""
    await require_rate(uow, context=context, currency=limit.currency)
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    changed = await _change_limit(
        uow,
        context=context,
        account=account,
        amount=limit.amount,
        currency=limit.currency,
        payment_terms_days=limit.payment_terms_days,
        review_on=limit.review_on,
        source="manual",
        reason=limit.reason,
        changed_by=changed_by,
    )
    if changed:
        await _republish(uow, context=context, account=account)
    return account


async def get_account(uow: UnitOfWork, *, buyer_id: str) -> CreditAccount:
    account = await AccountsRepository(uow.session).get(buyer_id)
    if account is None:
        raise NotFound(f"Buyer {buyer_id} has no credit account.")
    return account


async def describe_account(
    uow: UnitOfWork, *, context: LimitsContext, buyer_id: str
) -> tuple[CreditAccount, Position, list[TemporaryIncrease], Recommendation]:
    account = await get_account(uow, buyer_id=buyer_id)
    rates = await rate_table(uow, context=context)
    position = await position_of(uow, context=context, account=account, rates=rates, today=context.clock.today())
    increases = await AccountsRepository(uow.session).increases_for(buyer_id)
    return account, position, increases, recommendation_for(context=context, account=account, rates=rates)


def recommendation_for(*, context: LimitsContext, account: CreditAccount | AccountSnapshot, rates: RateTable) -> Recommendation:
    """The policy's recommendation for the account, priced with its PD, industry, usual terms and
    payment record (the credit check reads its economic capacity too)."""
    policy = context.policy.current
    return recommend(
        policy,
        grade=account.grade,
        equity=account.equity,
        sales=account.sales,
        statement_currency=account.statement_currency,
        invoices_paid_on_time=account.invoices_paid_on_time,
        rates=rates,
        relationship_days=None if account.relationship_since is None else (context.clock.today() - account.relationship_since).days,
        pd=account.pd,
        industry=account.industry,
        expected_days_late=expected_days_late(days_late_total=account.days_late_total, invoices_settled=account.invoices_settled),
        terms_days=usual_terms_days(policy, grade=account.grade, limit_source=account.limit_source, payment_terms_days=account.payment_terms_days),
        purchases_12m=account.purchases_12m,
    )


async def import_account(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    account: CreditAccount,
    relationship_since: date,
    limit: ImportedLimit | None,
    changed_by: str,
) -> bool:
    """An account of an imported book: its relationship start and, if the book had one, its limit
    (a manual limit from then on; a different manual limit already on the account is a conflict).
    ``account``: locked by the caller. Answers whether anything changed; the caller publishes the
    position once with the book's documents."""
    changed = False
    if account.relationship_since != relationship_since:
        await _audit(
            uow,
            context=context,
            subject_type="buyer",
            subject_id=account.buyer_id,
            action="relationship_imported",
            old={"relationship_since": None if account.relationship_since is None else account.relationship_since.isoformat()},
            new={"relationship_since": relationship_since.isoformat()},
            reason=IMPORT_REASON,
            changed_by=changed_by,
        )
        account.relationship_since, account.updated_at = relationship_since, context.clock.now()
        changed = True
    if limit is None:
        return changed
    await require_rate(uow, context=context, currency=limit.currency)
    imported = (limit.amount, limit.currency, limit.payment_terms_days, limit.review_on)
    current = (account.limit_amount, account.currency, account.payment_terms_days, account.review_on)
    if account.limit_source == "manual" and current != imported:
        # Someone set this limit by hand (or an earlier import did, differently): an import never
        # overrides a person's decision silently.
        raise Conflict(
            f"Buyer {account.buyer_id} has a manual limit of {account.limit_amount} {account.currency} "
            f"({account.payment_terms_days} days, review {account.review_on}); the import's is {limit.amount} {limit.currency} "
            f"({limit.payment_terms_days} days, review {limit.review_on}). Change it with PUT /v1/buyers/{account.buyer_id}/limit.",
            conflicting_fields=[f for f, a, b in zip(("amount", "currency", "payment_terms_days", "review_on"), current, imported, strict=True) if a != b],
        )
    if account.limit_source == "manual":
        return changed
    return (
        await _change_limit(
            uow,
            context=context,
            account=account,
            amount=limit.amount,
            currency=limit.currency,
            payment_terms_days=limit.payment_terms_days,
            review_on=limit.review_on,
            source="manual",
            reason=IMPORT_REASON,
            changed_by=changed_by,
        )
        or changed
    )


async def add_temporary_increase(
    uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, increase: TemporaryIncreaseIn, changed_by: str
) -> TemporaryIncrease:
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    if account.limit_amount is None:
        raise Unprocessable(f"Buyer {buyer_id} has no limit to increase; set one first.")
    if increase.valid_until < context.clock.today():
        raise Unprocessable("The increase would already have ended.", field="valid_until")
    entity = TemporaryIncrease(
        increase_id=str(uuid.uuid4()),
        buyer_id=buyer_id,
        amount=increase.amount,
        valid_from=increase.valid_from,
        valid_until=increase.valid_until,
        reason=increase.reason,
        created_by=changed_by,
        created_at=context.clock.now(),
        expiry_announced=False,
    )
    await AccountsRepository(uow.session).add(entity)
    await _audit(
        uow,
        context=context,
        subject_type="buyer",
        subject_id=buyer_id,
        action="temporary_increase_added",
        old={},
        new=increase.model_dump(mode="json", exclude={"reason"}) | {"increase_id": entity.increase_id},
        reason=increase.reason,
        changed_by=changed_by,
    )
    await _announce_effective_limit(uow, context=context, account=account, changed_by=changed_by, reason=increase.reason)
    return entity


async def cancel_temporary_increase(
    uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, increase_id: str, reason: str, changed_by: str
) -> TemporaryIncrease:
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    entity = await AccountsRepository(uow.session).get_increase(increase_id)
    if entity is None or entity.buyer_id != buyer_id:
        raise NotFound(f"Temporary increase {increase_id} not found for buyer {buyer_id}.")
    if entity.cancelled_at is not None:
        return entity
    entity.cancelled_at = context.clock.now()
    await _audit(
        uow,
        context=context,
        subject_type="buyer",
        subject_id=buyer_id,
        action="temporary_increase_cancelled",
        old={"increase_id": increase_id, "amount": str(entity.amount)},
        new={},
        reason=reason,
        changed_by=changed_by,
    )
    await _announce_effective_limit(uow, context=context, account=account, changed_by=changed_by, reason=reason)
    return entity


async def _announce_effective_limit(uow: UnitOfWork, *, context: LimitsContext, account: CreditAccount, changed_by: str, reason: str) -> None:
    position = await _republish(uow, context=context, account=account)
    assert position.limit is not None and account.currency is not None
    uow.emit(
        LimitChangedV1(
            buyer_id=account.buyer_id,
            old_amount=account.limit_amount,
            new_amount=position.limit,
            currency=account.currency,
            changed_by=changed_by,
            reason=reason,
            review_due_on=account.review_on,
        ),
        subject=account.buyer_id,
    )


async def announce_ended_increases(uow: UnitOfWork, *, context: LimitsContext) -> int:
    """Temporary increases revert by themselves (the position only counts live ones); the daily
    sweep tells the other services once each window has closed."""
    repository = AccountsRepository(uow.session)
    ended = await repository.increases_ended_unannounced(before=context.clock.today())
    for increase in ended:
        increase.expiry_announced = True
        account = await lock_or_create_account(uow, context=context, buyer_id=increase.buyer_id)
        await _announce_effective_limit(
            uow, context=context, account=account, changed_by=POLICY_ACTOR, reason=f"temporary increase {increase.increase_id} ended"
        )
    return len(ended)


async def set_group_limit(uow: UnitOfWork, *, context: LimitsContext, group_id: str, limit: GroupLimitIn, changed_by: str) -> CreditGroup:
    await require_rate(uow, context=context, currency=limit.currency)
    repository = AccountsRepository(uow.session)
    group = await lock_group(uow, group_id=group_id)
    fields = ("limit_amount", "currency", "review_on")
    old = audit_values(group, fields) if group is not None else {}
    if group is None:
        group = CreditGroup(group_id=group_id, limit_amount=limit.amount, currency=limit.currency, review_on=limit.review_on, updated_at=context.clock.now())
        await repository.add(group)
    else:
        group.limit_amount, group.currency, group.review_on, group.updated_at = limit.amount, limit.currency, limit.review_on, context.clock.now()
    await _audit(
        uow,
        context=context,
        subject_type="group",
        subject_id=group_id,
        action="group_limit_set",
        old=old,
        new=audit_values(group, fields),
        reason=limit.reason,
        changed_by=changed_by,
    )
    await _republish_members(uow, context=context, group_id=group_id)
    return group


async def _republish_members(uow: UnitOfWork, *, context: LimitsContext, group_id: str) -> None:
    repository = AccountsRepository(uow.session)
    rates = await rate_table(uow, context=context)
    for buyer_id in await repository.group_members(group_id):
        account = await repository.get(buyer_id)
        if account is not None:
            await _republish(uow, context=context, account=account, rates=rates)


async def describe_group(uow: UnitOfWork, *, context: LimitsContext, group_id: str) -> tuple[CreditGroup, list[str], Decimal]:
    repository = AccountsRepository(uow.session)
    group = await repository.get_group(group_id)
    if group is None:
        raise NotFound(f"Group {group_id} has no limit.")
    members = await repository.group_members(group_id)
    exposure = Decimal("0.00")
    if members:
        rates = await rate_table(uow, context=context)
        account = await repository.get(members[0])
        assert account is not None
        position = await position_of(uow, context=context, account=account, rates=rates, today=context.clock.today())
        if position.group is not None:
            exposure = rates.convert(position.group.exposure, from_currency=position.currency, to_currency=group.currency)
    return group, members, exposure


async def assign_group(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, group_id: str | None, reason: str, changed_by: str) -> CreditAccount:
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    if account.group_id == group_id:
        return account
    await _audit(
        uow,
        context=context,
        subject_type="buyer",
        subject_id=buyer_id,
        action="group_assigned",
        old={"group_id": account.group_id},
        new={"group_id": group_id},
        reason=reason,
        changed_by=changed_by,
    )
    account.group_id, account.updated_at = group_id, context.clock.now()
    await _republish(uow, context=context, account=account)
    return account


async def set_status(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, status: str, reason: str, changed_by: str) -> CreditAccount:
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    if account.status == status:
        return account
    old_status = account.status
    await _audit(
        uow,
        context=context,
        subject_type="buyer",
        subject_id=buyer_id,
        action="status_changed",
        old={"status": old_status},
        new={"status": status},
        reason=reason,
        changed_by=changed_by,
    )
    account.status, account.status_reason, account.updated_at = status, reason, context.clock.now()
    uow.emit(AccountStatusChangedV1(buyer_id=buyer_id, old_status=old_status, new_status=status, reason=reason), subject=buyer_id)
    await _republish(uow, context=context, account=account)
    return account


async def apply_hold_request(uow: UnitOfWork, *, context: LimitsContext, request: AccountHoldRequestedV1) -> CreditAccount:
    """Collections may put an active account on hold and lift its own hold; it never unblocks."""
    account = await lock_or_create_account(uow, context=context, buyer_id=request.buyer_id)
    actor = f"collections:{request.case_id}" if request.case_id else "collections"
    if request.hold and account.status == "active":
        return await set_status(uow, context=context, buyer_id=request.buyer_id, status="on_hold", reason=request.reason, changed_by=actor)
    if not request.hold and account.status == "on_hold":
        return await set_status(uow, context=context, buyer_id=request.buyer_id, status="active", reason=request.reason, changed_by=actor)
    return account


async def record_assessment(uow: UnitOfWork, *, context: LimitsContext, assessment: BuyerAssessedV1) -> CreditAccount:
    locked = await lock_account(uow, context=context, buyer_id=assessment.buyer_id)
    account = locked.account
    # A re-delivered older assessment must not undo a newer one.
    if account.assessed_at is not None and _aware(assessment.assessed_at) < _aware(account.assessed_at):
        return account
    account.grade, account.risk_class, account.pd = assessment.grade, assessment.risk_class.value, Decimal(str(assessment.pd))
    account.assessed_at = assessment.assessed_at
    account.name, account.country, account.industry = assessment.name, assessment.country, assessment.industry
    account.equity, account.sales, account.statement_currency = assessment.equity, assessment.sales, assessment.statement_currency
    if assessment.group_id is not None:
        account.group_id = assessment.group_id
    account.updated_at = context.clock.now()
    if await follow_policy_limit(uow, context=context, account=account, reason=f"assessment {assessment.assessment_id}", rates=locked.rates):
        # Only a new limit moves the position; an unchanged one would repeat the last exposure-changed.
        await _republish(uow, context=context, account=account, locked=locked)
    return account


# Payment experience looks back this far: a year of purchases.
EXPERIENCE_DAYS = 365


async def _purchases(uow: UnitOfWork, *, context: LimitsContext, buyer_ids: set[str] | None, rates: RateTable) -> dict[str, Decimal]:
    """Each buyer's credit purchases over the last year, in the policy's matrix currency."""
    currency = context.policy.current.matrix_currency
    totals: dict[str, Decimal] = {}
    since = context.clock.today() - timedelta(days=EXPERIENCE_DAYS)
    for buyer_id, invoice_currency, amount in await AccountsRepository(uow.session).purchases_since(since, buyer_ids=buyer_ids):
        totals[buyer_id] = totals.get(buyer_id, Decimal(0)) + rates.convert(amount, from_currency=invoice_currency, to_currency=currency)
    return {buyer_id: to_cents(total) for buyer_id, total in totals.items()}


async def refresh_payment_experience(uow: UnitOfWork, *, context: LimitsContext, accounts: list[CreditAccount] | None = None) -> int:
    """Keeps every account's last twelve months of purchases current (the daily sweep), or those of
    the ``accounts`` given (an import, whose accounts are locked and loaded). Answers how many moved."""
    rates = await rate_table(uow, context=context)
    if accounts is not None:
        purchases = await _purchases(uow, context=context, buyer_ids={a.buyer_id for a in accounts}, rates=rates)
        moved = [a for a in accounts if a.purchases_12m != purchases.get(a.buyer_id, Decimal(0))]
        for account in moved:
            account.purchases_12m = purchases.get(account.buyer_id, Decimal(0))
        return len(moved)
    repository = AccountsRepository(uow.session)
    purchases = await _purchases(uow, context=context, buyer_ids=None, rates=rates)
    current = await repository.purchases_by_buyer()
    moved_by_buyer = {b: purchases.get(b, Decimal(0)) for b, value in current.items() if value != purchases.get(b, Decimal(0))}
    await repository.set_purchases(moved_by_buyer)
    return len(moved_by_buyer)


async def follow_policy_limit(uow: UnitOfWork, *, context: LimitsContext, account: CreditAccount, reason: str, rates: RateTable | None = None) -> bool:
    """Accounts without a manual limit follow the policy's recommendation and its ramp-up.
    Answers whether the limit or its terms changed."""
    if account.limit_source == "manual" or account.grade is None:
        return False
    recommendation = recommendation_for(context=context, account=account, rates=rates or await rate_table(uow, context=context))
    return await _change_limit(
        uow,
        context=context,
        account=account,
        amount=recommendation.amount,
        currency=recommendation.currency,
        payment_terms_days=recommendation.max_terms_days,
        review_on=account.review_on,
        source="policy",
        reason=f"policy recommendation ({reason}), ramp-up {recommendation.ramp_up_fraction}",
        changed_by=POLICY_ACTOR,
    )


async def audit_trail(uow: UnitOfWork, *, subject_type: str, subject_id: str) -> list[LimitAudit]:
    return await AccountsRepository(uow.session).audit_trail(subject_type=subject_type, subject_id=subject_id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
