from __future__ import annotations

from creditguard_limits.accounts.rules import COVER_REDUCED, with_flag
from creditguard_limits.context import LimitsContext
from creditguard_limits.fx.service import require_rate
from creditguard_limits.insurance.repository import InsuranceRepository
from creditguard_limits.insurance.schemas import InsuranceCoverIn, InsurancePolicyIn
from creditguard_limits.models.insurance import InsuranceCover, InsurancePolicy
from creditguard_limits.position.service import lock_or_create_account, refresh_exposure
from creditguard_shared.errors import NotFound, Unprocessable
from creditguard_shared.events.contracts import InsuranceCoverChangedV1, LimitChangedV1
from creditguard_shared.unit_of_work import UnitOfWork


async def put_policy(uow: UnitOfWork, *, context: LimitsContext, policy_id: str, policy: InsurancePolicyIn) -> InsurancePolicy:
    repository = InsuranceRepository(uow.session)
    entity = await repository.get_policy(policy_id)
    if entity is None:
        entity = InsurancePolicy(policy_id=policy_id, **policy.model_dump(), updated_at=context.clock.now())
        await repository.add(entity)
    else:
        for field, value in policy.model_dump().items():
            setattr(entity, field, value)
        entity.updated_at = context.clock.now()
    return entity


async def get_policy(uow: UnitOfWork, *, policy_id: str) -> InsurancePolicy:
    policy = await InsuranceRepository(uow.session).get_policy(policy_id)
    if policy is None:
        raise NotFound(f"Insurance policy {policy_id} not found.")
    return policy


async def put_cover(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, cover: InsuranceCoverIn, changed_by: str) -> InsuranceCover:
    """A reduced cover re-evaluates the account: it is flagged and its review brought forward to today."""
    repository = InsuranceRepository(uow.session)
    policy = await repository.get_policy(cover.policy_id)
    if policy is None:
        raise Unprocessable(f"Insurance policy {cover.policy_id} is unknown; create it first.", field="policy_id")
    await require_rate(uow, context=context, currency=cover.currency)
    account = await lock_or_create_account(uow, context=context, buyer_id=buyer_id)
    entity = await repository.get_cover(buyer_id)
    reduced = entity is not None and (cover.granted_amount < entity.granted_amount or cover.currency != entity.currency)
    if entity is None:
        entity = InsuranceCover(buyer_id=buyer_id, **cover.model_dump(), updated_by=changed_by, updated_at=context.clock.now())
        await repository.add(entity)
    else:
        for field, value in cover.model_dump().items():
            setattr(entity, field, value)
        entity.updated_by, entity.updated_at = changed_by, context.clock.now()
    if reduced:
        account.flags = with_flag(account.flags, COVER_REDUCED, present=True)
        today = context.clock.today()
        account.review_on = min(account.review_on, today) if account.review_on else today
        if account.limit_amount is not None and account.currency is not None:
            # Alerts watches the review date through limit-changed; the amount stays as it was.
            uow.emit(
                LimitChangedV1(
                    buyer_id=buyer_id,
                    old_amount=account.limit_amount,
                    new_amount=account.limit_amount,
                    currency=account.currency,
                    changed_by=changed_by,
                    reason=f"insurance cover reduced: review brought forward to {account.review_on.isoformat()}",
                    review_due_on=account.review_on,
                ),
                subject=buyer_id,
            )
    uow.emit(
        InsuranceCoverChangedV1(
            buyer_id=buyer_id,
            policy_id=policy.policy_id,
            insurer=policy.insurer,
            currency=cover.currency,
            insured_amount=cover.granted_amount,
            indemnity_percentage=policy.indemnity_percentage,
            report_overdue_within_days=policy.report_overdue_within_days,
            file_claim_within_days=policy.file_claim_within_days,
            valid_from=cover.valid_from,
            valid_until=cover.valid_until,
        ),
        subject=buyer_id,
    )
    await refresh_exposure(uow, context=context, buyer_id=buyer_id)
    return entity


async def get_cover(uow: UnitOfWork, *, buyer_id: str) -> InsuranceCover:
    cover = await InsuranceRepository(uow.session).get_cover(buyer_id)
    if cover is None:
        raise NotFound(f"Buyer {buyer_id} has no insurance cover.")
    return cover
