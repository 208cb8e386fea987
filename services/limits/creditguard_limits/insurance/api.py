from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.insurance import service
from creditguard_limits.insurance.schemas import InsuranceCoverIn, InsuranceCoverOut, InsurancePolicyIn, InsurancePolicyOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["credit insurance"])

Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.put("/insurance/policies/{policy_id}", response_model=InsurancePolicyOut, summary="Create or update a credit-insurance policy")
async def put_policy(policy_id: PathId, body: InsurancePolicyIn, uow: UnitOfWorkDep, context: LimitsContextDep, _: Manage) -> InsurancePolicyOut:
    policy = await service.put_policy(uow, context=context, policy_id=policy_id, policy=body)
    await uow.commit()
    return InsurancePolicyOut.model_validate(policy)


@router.get("/insurance/policies/{policy_id}", response_model=InsurancePolicyOut)
async def get_policy(policy_id: PathId, uow: UnitOfWorkDep, _: Read) -> InsurancePolicyOut:
    return InsurancePolicyOut.model_validate(await service.get_policy(uow, policy_id=policy_id))


@router.put("/buyers/{buyer_id}/insurance-cover", response_model=InsuranceCoverOut, summary="Record the insurer's cover on a buyer (requested and granted)")
async def put_cover(buyer_id: PathId, body: InsuranceCoverIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> InsuranceCoverOut:
    cover = await service.put_cover(uow, context=context, buyer_id=buyer_id, cover=body, changed_by=principal.actor)
    await uow.commit()
    return InsuranceCoverOut.model_validate(cover)


@router.get("/buyers/{buyer_id}/insurance-cover", response_model=InsuranceCoverOut)
async def get_cover(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> InsuranceCoverOut:
    return InsuranceCoverOut.model_validate(await service.get_cover(uow, buyer_id=buyer_id))
