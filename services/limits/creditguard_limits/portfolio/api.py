from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.portfolio import service
from creditguard_limits.portfolio.schemas import CashInForecastOut, PortfolioOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["portfolio"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
Refresh = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]


@router.get("/portfolio", response_model=PortfolioOut, summary="Total exposure, utilisation distribution and concentration (reporting currency)")
async def get_portfolio(uow: UnitOfWorkDep, context: LimitsContextDep, _: Read) -> PortfolioOut:
    return await service.portfolio(uow, context=context)


@router.get("/forecast/cash-in", response_model=CashInForecastOut, summary="Expected collections per week and expected loss")
async def get_cash_in_forecast(uow: UnitOfWorkDep, context: LimitsContextDep, _: Read, weeks: int = Query(12, ge=1, le=104)) -> CashInForecastOut:
    return await service.cash_in_forecast(uow, context=context, weeks=weeks)


@router.post("/portfolio/metrics/refresh", response_model=PortfolioOut, summary="Refresh the portfolio metrics now")
async def refresh_metrics(uow: UnitOfWorkDep, context: LimitsContextDep, _: Refresh) -> PortfolioOut:
    return await service.refresh_portfolio_metrics(uow, context=context)
