from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from creditguard_scoring.assessment.api import context_of
from creditguard_scoring.calibration import service
from creditguard_scoring.calibration.models import CalibrationVersion
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.calibration.schemas import BacktestOut, CalibrationOut, CalibrationStatusOut, RecalibrationIn, RecalibrationOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1/calibration", tags=["calibration"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES, Role.ADMIN))]
Write = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.ADMIN))]


def _render(record: CalibrationVersion) -> CalibrationOut:
    return CalibrationOut(
        version=record.version,
        method=record.method,
        intercept=record.intercept,
        slope=record.slope,
        pivot=record.pivot,
        previous_version=record.previous_version,
        applied_by=record.applied_by,
        applied_at=record.applied_at,
        reason=record.reason,
        backtest=record.backtest,
    )


def _render_base(calibration: Calibration) -> CalibrationOut:
    return CalibrationOut(version=calibration.version, method="settings", intercept=calibration.intercept, slope=calibration.slope, pivot=calibration.pivot)


@router.get("", response_model=CalibrationStatusOut, summary="The calibration in force and every recalibration applied")
async def get_calibration(request: Request, uow: UnitOfWorkDep, _: Read) -> CalibrationStatusOut:
    current, history = await service.overview(uow, context=context_of(request))
    rendered = [_render(r) for r in history]
    return CalibrationStatusOut(current=rendered[0] if rendered else _render_base(current), history=rendered)


@router.get("/backtest", response_model=BacktestOut, summary="Predicted PDs in force at as_of against defaults within the horizon, grade by grade")
async def get_backtest(request: Request, uow: UnitOfWorkDep, _: Read, as_of: date = Query(...), horizon_days: int = Query(365, ge=30, le=1825)) -> BacktestOut:
    return BacktestOut(**await service.backtest(uow, as_of=as_of, horizon_days=horizon_days, today=request.app.state.clock.today()))


@router.post(
    "/recalibrations", response_model=RecalibrationOut, status_code=201, summary="Fit a calibration on a back-test window, apply it and re-grade the book"
)
async def recalibrate(body: RecalibrationIn, request: Request, uow: UnitOfWorkDep, principal: Write) -> RecalibrationOut:
    context = context_of(request)
    now = request.app.state.clock.now()
    record, buyer_ids = await service.apply_recalibration(
        uow, context=context, as_of=body.as_of, horizon_days=body.horizon_days, method=body.method, reason=body.reason, applied_by=principal.actor_name, now=now
    )
    await uow.commit()
    regraded = await service.regrade(
        request.app.state.runtime.uow_factory, context=context, buyer_ids=buyer_ids, now=now, chunk=request.app.state.regrade_chunk
    )
    return RecalibrationOut(calibration=_render(record), regraded=regraded, pending=len(buyer_ids) - regraded)
