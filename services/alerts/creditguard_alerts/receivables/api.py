from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_alerts.receivables import service
from creditguard_alerts.receivables.schemas import ReceivableOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["receivables"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.get("/buyers/{buyer_id}/receivables", response_model=list[ReceivableOut])
async def list_receivables(buyer_id: PathId, uow: UnitOfWorkDep, _: Read, open_only: bool = Query(False)) -> list[ReceivableOut]:
    return [ReceivableOut.model_validate(r) for r in await service.buyer_receivables(uow, buyer_id=buyer_id, open_only=open_only)]
