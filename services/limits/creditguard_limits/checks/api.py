from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from creditguard_limits.checks import service
from creditguard_limits.checks.schemas import (
    CreditCheckExplanation,
    CreditCheckIn,
    CreditCheckOut,
    CreditCheckPage,
    CreditCheckSearch,
    ManualDecisionIn,
    ReservationOut,
)
from creditguard_limits.context import LimitsContextDep
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.errors import NotFound
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["credit checks"])

Check = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER))]
Decide = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER, Role.SALES))]
Review = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
Search = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES, changes_nothing=True))]


@router.post(
    "/credit-checks",
    response_model=CreditCheckOut,
    status_code=201,
    responses={200: {"model": CreditCheckOut, "description": "The order was decided before: that decision"}},
    summary="Decide an order now: approved, approved_with_conditions, referred or rejected (idempotent by order_id)",
)
async def post_credit_check(body: CreditCheckIn, uow: UnitOfWorkDep, context: LimitsContextDep, response: Response, principal: Check) -> CreditCheckOut:
    check, created = await service.run_credit_check(uow, context=context, request=body, requested_by=principal.actor)
    await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return CreditCheckOut.model_validate(check)


@router.get("/credit-checks", response_model=list[CreditCheckOut], summary="Referred orders waiting for a credit manager")
async def list_credit_checks(
    uow: UnitOfWorkDep, _: Review, state: Literal["pending"] = Query("pending"), limit: int = Query(100, ge=1, le=1000)
) -> list[CreditCheckOut]:
    return [CreditCheckOut.model_validate(c) for c in await service.pending_referrals(uow, limit=limit)]


@router.post(
    "/credit-checks/search",
    response_model=CreditCheckPage,
    summary="Credit checks filtered (state, buyers, reason, decision), sorted and paged: the referral queue, a buyer's past decisions",
)
async def search_credit_checks(body: CreditCheckSearch, uow: UnitOfWorkDep, _: Search) -> CreditCheckPage:
    checks, total = await service.search_checks(
        uow,
        state=body.state,
        buyer_ids=body.buyer_ids,
        reason=body.reason,
        decision=body.decision,
        sort=body.sort,
        limit=body.limit,
        offset=body.offset,
    )
    return CreditCheckPage(items=[CreditCheckOut.model_validate(c) for c in checks], total=total, limit=body.limit, offset=body.offset)


@router.get("/credit-checks/{check_id}", response_model=CreditCheckExplanation, summary="A decision with its inputs, rules version and exposure breakdown")
async def get_credit_check(check_id: PathId, uow: UnitOfWorkDep, _: Read) -> CreditCheckExplanation:
    return CreditCheckExplanation.model_validate(await service.get_check(uow, check_id=check_id))


@router.post("/credit-checks/{check_id}/decision", response_model=CreditCheckOut, summary="Approve or reject a referred order")
async def post_decision(check_id: PathId, body: ManualDecisionIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Decide) -> CreditCheckOut:
    check = await service.decide_referral(uow, context=context, check_id=check_id, decision=body.decision, comment=body.comment, decided_by=principal.actor)
    await uow.commit()
    return CreditCheckOut.model_validate(check)


@router.post("/orders/{order_id}/cancel", response_model=ReservationOut, summary="Release an order's credit reservation")
async def cancel_order(order_id: PathId, uow: UnitOfWorkDep, context: LimitsContextDep, _: Check) -> ReservationOut:
    reservation = await service.release_order(uow, context=context, order_id=order_id, status="cancelled")
    if reservation is None:
        raise NotFound(f"Order {order_id} has no credit reservation.")
    await uow.commit()
    return ReservationOut.model_validate(reservation)
