from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.position import service
from creditguard_limits.position.schemas import ExposureOut, GroupExposureOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["exposure"])

Read = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER, Role.SALES))]


@router.get(
    "/buyers/{buyer_id}/exposure",
    response_model=ExposureOut,
    summary="Limit, open invoices and orders less unapplied cash, overdue by bucket, available, insured part",
)
async def get_exposure(buyer_id: PathId, uow: UnitOfWorkDep, context: LimitsContextDep, _: Read) -> ExposureOut:
    account, position = await service.current_position(uow, context=context, buyer_id=buyer_id)
    exposure = position.exposure
    return ExposureOut(
        buyer_id=buyer_id,
        currency=position.currency,
        status=account.status,
        limit=position.limit,
        temporary_increase=position.temporary_increase,
        open_invoices=exposure.open_invoices,
        open_orders=exposure.open_orders,
        unapplied_cash=exposure.unapplied_cash,
        exposure=exposure.total,
        overdue=exposure.overdue,
        overdue_by_bucket=exposure.overdue_by_bucket,
        oldest_overdue_days=exposure.oldest_overdue_days,
        available=position.available,
        utilisation=position.utilisation,
        insured=position.insured,
        uninsured=position.uninsured,
        group=None
        if position.group is None
        else GroupExposureOut(
            group_id=position.group.group_id,
            limit=position.group.limit,
            exposure=position.group.exposure,
            available=position.group.available,
        ),
    )
