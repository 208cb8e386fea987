from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_limits.accounts import service
from creditguard_limits.accounts.schemas import (
    AuditOut,
    GroupLimitIn,
    GroupMembershipIn,
    GroupOut,
    LimitIn,
    LimitOut,
    RecommendationOut,
    StatusIn,
    TemporaryIncreaseIn,
    TemporaryIncreaseOut,
)
from creditguard_limits.context import LimitsContext, LimitsContextDep
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["limits"])

Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER, Role.SALES))]


async def _render(uow, context: LimitsContext, buyer_id: PathId) -> LimitOut:
    account, position, increases, recommendation = await service.describe_account(uow, context=context, buyer_id=buyer_id)
    return LimitOut(
        buyer_id=account.buyer_id,
        amount=account.limit_amount,
        currency=account.currency,
        payment_terms_days=account.payment_terms_days,
        review_on=account.review_on,
        limit_source=account.limit_source,
        status=account.status,
        status_reason=account.status_reason,
        flags=json.loads(account.flags),
        group_id=account.group_id,
        temporary_increase=position.temporary_increase,
        effective_limit=position.limit,
        temporary_increases=[TemporaryIncreaseOut.model_validate(i) for i in increases],
        grade=account.grade,
        risk_class=account.risk_class,
        relationship_since=account.relationship_since,
        recommendation=RecommendationOut(**asdict(recommendation)),
    )


@router.put("/buyers/{buyer_id}/limit", response_model=LimitOut, summary="Set a buyer's credit limit, terms and review date")
async def put_limit(buyer_id: PathId, body: LimitIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> LimitOut:
    await service.set_limit(uow, context=context, buyer_id=buyer_id, limit=body, changed_by=principal.actor)
    await uow.commit()
    return await _render(uow, context, buyer_id)


@router.get("/buyers/{buyer_id}/limit", response_model=LimitOut, summary="A buyer's limit, status, temporary increases and recommendation")
async def get_limit(buyer_id: PathId, uow: UnitOfWorkDep, context: LimitsContextDep, _: Read) -> LimitOut:
    return await _render(uow, context, buyer_id)


@router.post(
    "/buyers/{buyer_id}/temporary-increases",
    response_model=TemporaryIncreaseOut,
    status_code=201,
    summary="Raise the limit for a validity window; it reverts by itself",
)
async def post_temporary_increase(
    buyer_id: PathId, body: TemporaryIncreaseIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage
) -> TemporaryIncreaseOut:
    increase = await service.add_temporary_increase(uow, context=context, buyer_id=buyer_id, increase=body, changed_by=principal.actor)
    await uow.commit()
    return TemporaryIncreaseOut.model_validate(increase)


@router.delete("/buyers/{buyer_id}/temporary-increases/{increase_id}", response_model=TemporaryIncreaseOut, summary="End a temporary increase now")
async def delete_temporary_increase(
    buyer_id: PathId,
    increase_id: PathId,
    uow: UnitOfWorkDep,
    context: LimitsContextDep,
    principal: Manage,
    reason: str = Query(..., min_length=1, max_length=500),
) -> TemporaryIncreaseOut:
    increase = await service.cancel_temporary_increase(
        uow, context=context, buyer_id=buyer_id, increase_id=increase_id, reason=reason, changed_by=principal.actor
    )
    await uow.commit()
    return TemporaryIncreaseOut.model_validate(increase)


@router.put("/buyers/{buyer_id}/status", response_model=LimitOut, summary="Put an account on hold, block it or reactivate it")
async def put_status(buyer_id: PathId, body: StatusIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> LimitOut:
    await service.set_status(uow, context=context, buyer_id=buyer_id, status=body.status, reason=body.reason, changed_by=principal.actor)
    await uow.commit()
    return await _render(uow, context, buyer_id)


@router.put("/buyers/{buyer_id}/group", response_model=LimitOut, summary="Attach a buyer to a group (parent) or detach it (group_id null)")
async def put_group_membership(buyer_id: PathId, body: GroupMembershipIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> LimitOut:
    await service.assign_group(uow, context=context, buyer_id=buyer_id, group_id=body.group_id, reason=body.reason, changed_by=principal.actor)
    await uow.commit()
    return await _render(uow, context, buyer_id)


@router.get("/buyers/{buyer_id}/limit/audit", response_model=list[AuditOut], summary="Every change to the buyer's credit terms")
async def get_limit_audit(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> list[AuditOut]:
    return [AuditOut.model_validate(a) for a in await service.audit_trail(uow, subject_type="buyer", subject_id=buyer_id)]


async def _render_group(uow, context: LimitsContext, group_id: PathId) -> GroupOut:
    group, members, exposure = await service.describe_group(uow, context=context, group_id=group_id)
    return GroupOut(
        group_id=group.group_id,
        amount=group.limit_amount,
        currency=group.currency,
        review_on=group.review_on,
        members=members,
        exposure=exposure,
        available=max(group.limit_amount - exposure, 0),
    )


@router.put("/groups/{group_id}/limit", response_model=GroupOut, summary="Set a limit its member buyers share")
async def put_group_limit(group_id: PathId, body: GroupLimitIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> GroupOut:
    await service.set_group_limit(uow, context=context, group_id=group_id, limit=body, changed_by=principal.actor)
    await uow.commit()
    return await _render_group(uow, context, group_id)


@router.get("/groups/{group_id}/limit", response_model=GroupOut)
async def get_group_limit(group_id: PathId, uow: UnitOfWorkDep, context: LimitsContextDep, _: Read) -> GroupOut:
    return await _render_group(uow, context, group_id)


@router.get("/groups/{group_id}/limit/audit", response_model=list[AuditOut])
async def get_group_audit(group_id: PathId, uow: UnitOfWorkDep, _: Read) -> list[AuditOut]:
    return [AuditOut.model_validate(a) for a in await service.audit_trail(uow, subject_type="group", subject_id=group_id)]
