from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.fx import service
from creditguard_limits.fx.schemas import FxRateIn, FxRateOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["fx rates"])

Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER, Role.SALES))]
CurrencyPath = Annotated[str, Path(pattern=r"^[A-Z]{3}$")]


def _render(rate, reporting_currency: str) -> FxRateOut:
    return FxRateOut(currency=rate.currency, rate=rate.rate, reporting_currency=reporting_currency, updated_by=rate.updated_by, updated_at=rate.updated_at)


@router.put("/fx-rates/{currency}", response_model=FxRateOut, summary="Set what one unit of a currency is worth in the reporting currency")
async def put_rate(currency: CurrencyPath, body: FxRateIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> FxRateOut:
    rate = await service.set_rate(uow, context=context, currency=currency, rate=body.rate, changed_by=principal.actor)
    await uow.commit()
    return _render(rate, context.settings.reporting_currency)


@router.get("/fx-rates", response_model=list[FxRateOut])
async def list_rates(uow: UnitOfWorkDep, context: LimitsContextDep, _: Read) -> list[FxRateOut]:
    return [_render(r, context.settings.reporting_currency) for r in await service.list_rates(uow)]
