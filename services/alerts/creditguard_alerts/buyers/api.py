from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from creditguard_alerts.buyers import service
from creditguard_alerts.buyers.schemas import BuyerProfileOut, InsuranceCoverOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep
from creditguard_shared.schema_types import PathId

router = APIRouter(prefix="/v1", tags=["buyers"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.get("/buyers/{buyer_id}/profile", response_model=BuyerProfileOut, summary="What the alerts service knows about a buyer")
async def get_profile(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> BuyerProfileOut:
    buyer, cover = await service.get_profile(uow, buyer_id=buyer_id)
    out = BuyerProfileOut.model_validate(buyer)
    out.insurance_cover = None if cover is None else InsuranceCoverOut.model_validate(cover)
    return out
