from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from creditguard_scoring.context import ScoringContextDep
from creditguard_scoring.payment_behaviour import service
from creditguard_scoring.payment_behaviour.schemas import PaymentBehaviourOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["payment behaviour"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.get("/buyers/{buyer_id}/payment-behaviour", response_model=PaymentBehaviourOut)
async def get_payment_behaviour(buyer_id: PathId, uow: UnitOfWorkDep, context: ScoringContextDep, _: Read) -> PaymentBehaviourOut:
    as_of = context.clock.today()
    summary = await service.buyer_payment_behaviour(uow, buyer_id=buyer_id, as_of=as_of)
    return PaymentBehaviourOut(buyer_id=buyer_id, as_of=as_of, **asdict(summary))
