from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_scoring.calibration import service
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.calibration.schemas import BacktestOut, CalibrationOut, CalibrationStatusOut, RecalibrationIn, RecalibrationOut
from creditguard_scoring.context import ScoringContext, ScoringContextDep
from creditguard_scoring.models.calibration import CalibrationVersion
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep, UnitOfWorkFactoryDep

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


def _base(context: ScoringContext) -> Calibration:
    assert context.assessment.base_calibration is not None  # set by the app from its settings
    return context.assessment.base_calibration


def _render_base(calibration: Calibration) -> CalibrationOut:
    return CalibrationOut(version=calibration.version, method="settings", intercept=calibration.intercept, slope=calibration.slope, pivot=calibration.pivot)


@router.get("", response_model=CalibrationStatusOut, summary="The calibration in force and every recalibration applied")
async def get_calibration(uow: UnitOfWorkDep, context: ScoringContextDep, _: Read) -> CalibrationStatusOut:
    current, history = await service.overview(uow, base=_base(context))
    rendered = [_render(r) for r in history]
    return CalibrationStatusOut(current=rendered[0] if rendered else _render_base(current), history=rendered)


@router.get("/backtest", response_model=BacktestOut, summary="Predicted PDs in force at as_of against defaults within the horizon, grade by grade")
async def get_backtest(
    uow: UnitOfWorkDep, context: ScoringContextDep, _: Read, as_of: date = Query(...), horizon_days: int = Query(365, ge=30, le=1825)
) -> BacktestOut:
    return BacktestOut(**await service.backtest(uow, as_of=as_of, horizon_days=horizon_days, today=context.clock.today()))


@router.post(
    "/recalibrations", response_model=RecalibrationOut, status_code=201, summary="Fit a calibration on a back-test window, apply it and re-grade the book"
)
async def recalibrate(
    body: RecalibrationIn, uow: UnitOfWorkDep, context: ScoringContextDep, uow_factory: UnitOfWorkFactoryDep, principal: Write
) -> RecalibrationOut:
    now = context.clock.now()
    record, buyer_ids = await service.apply_recalibration(
        uow,
        base=_base(context),
        as_of=body.as_of,
        horizon_days=body.horizon_days,
        method=body.method,
        reason=body.reason,
        applied_by=principal.actor_name,
        now=now,
    )
    await uow.commit()
    regraded = await context.reassessment.regrade(uow_factory, buyer_ids=buyer_ids, now=now, chunk=context.regrade_chunk)
    return RecalibrationOut(calibration=_render(record), regraded=regraded, pending=len(buyer_ids) - regraded)
