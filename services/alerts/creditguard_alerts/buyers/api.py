from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_alerts.buyers import service
from creditguard_alerts.buyers.schemas import BuyerProfileOut, BuyerProfilePage, InsuranceCoverOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import MAX_OFFSET, PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["buyers"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.get("/buyer-profiles", response_model=BuyerProfilePage, summary="Buyer profiles by account owner and status (a person's accounts on hold), paged")
async def list_profiles(
    uow: UnitOfWorkDep,
    _: Read,
    account_owner: str | None = Query(None, min_length=1, max_length=200),
    account_status: str | None = Query(None, pattern="^(active|on_hold|blocked)$"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> BuyerProfilePage:
    profiles, total = await service.page_profiles(uow, account_owner=account_owner, account_status=account_status, limit=limit, offset=offset)
    return BuyerProfilePage(items=[BuyerProfileOut.model_validate(p) for p in profiles], total=total, limit=limit, offset=offset)


@router.get("/buyers/{buyer_id}/profile", response_model=BuyerProfileOut, summary="What the alerts service knows about a buyer")
async def get_profile(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> BuyerProfileOut:
    buyer, cover = await service.get_profile(uow, buyer_id=buyer_id)
    out = BuyerProfileOut.model_validate(buyer)
    out.insurance_cover = None if cover is None else InsuranceCoverOut.model_validate(cover)
    return out
