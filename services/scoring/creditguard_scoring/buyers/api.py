from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from creditguard_scoring.buyers import service
from creditguard_scoring.buyers.schemas import AdverseEventIn, AdverseEventOut, BuyerIn, BuyerOut
from creditguard_scoring.context import ScoringContextDep
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import Identifier, PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["buyers"])

Write = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.put(
    "/buyers/{buyer_id}",
    response_model=BuyerOut,
    responses={201: {"model": BuyerOut, "description": "Registered"}},
    summary="Register or change a buyer (re-assesses it when anything changed)",
)
async def put_buyer(buyer_id: Identifier, body: BuyerIn, response: Response, uow: UnitOfWorkDep, context: ScoringContextDep, _: Write) -> BuyerOut:
    now = context.clock.now()
    buyer, created, changed = await service.put_buyer(uow, buyer_id=buyer_id, profile=body, now=now)
    if changed:
        await context.reassessment.assess_now(uow, buyer_id=buyer_id, trigger="profile", now=now)
    await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return BuyerOut.model_validate(buyer)


@router.get("/buyers/{buyer_id}", response_model=BuyerOut)
async def get_buyer(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> BuyerOut:
    return BuyerOut.model_validate(await service.get_buyer(uow, buyer_id=buyer_id))


@router.post(
    "/buyers/{buyer_id}/adverse-events",
    response_model=AdverseEventOut,
    status_code=201,
    responses={200: {"model": AdverseEventOut, "description": "Already recorded"}},
    summary="Record an insolvency filing, court judgment or payment default (idempotent by event_id)",
)
async def post_adverse_event(
    buyer_id: PathId, body: AdverseEventIn, response: Response, uow: UnitOfWorkDep, context: ScoringContextDep, _: Write
) -> AdverseEventOut:
    now = context.clock.now()
    event, created, changed = await service.record_adverse_event(uow, buyer_id=buyer_id, event=body, now=now)
    if changed:
        await context.reassessment.assess_now(uow, buyer_id=buyer_id, trigger="profile", now=now)
    await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return AdverseEventOut.model_validate(event)


@router.get("/buyers/{buyer_id}/adverse-events", response_model=list[AdverseEventOut])
async def list_adverse_events(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> list[AdverseEventOut]:
    return [AdverseEventOut.model_validate(e) for e in await service.adverse_events(uow, buyer_id=buyer_id)]
