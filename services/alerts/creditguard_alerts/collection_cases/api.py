from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from creditguard_alerts.collection_cases import service
from creditguard_alerts.collection_cases.rules import NO_LEVEL, Level
from creditguard_alerts.collection_cases.schemas import ActionIn, ActionOut, CaseDetail, CaseOut, CasePage, StrategyIn, StrategyOut, WorkItem, WorkQueue
from creditguard_alerts.context import AlertsContextDep
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.errors import Unprocessable
from creditguard_shared.schema_types import MAX_OFFSET, PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1/collections", tags=["collections"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
Work = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
CaseStatus = Annotated[str | None, Query(pattern="^(open|closed)$")]
LevelName = Annotated[str | None, Query(pattern="^(" + "|".join([NO_LEVEL, *(level.value for level in Level)]) + ")$")]


@router.get("/cases", response_model=CasePage, summary="Collection cases, most overdue first")
async def list_cases(
    uow: UnitOfWorkDep,
    _: Read,
    buyer_id: str | None = None,
    status: CaseStatus = None,
    level: LevelName = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> CasePage:
    cases, total = await service.page_cases(uow, buyer_id=buyer_id, status=status, level=level, limit=limit, offset=offset)
    return CasePage(items=[CaseOut.model_validate(c) for c in cases], total=total, limit=limit, offset=offset)


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="A case with its history")
async def get_case(case_id: PathId, uow: UnitOfWorkDep, _: Read) -> CaseDetail:
    case, actions = await service.get_case(uow, case_id=case_id)
    return CaseDetail(**CaseOut.model_validate(case).model_dump(), actions=[ActionOut.model_validate(a) for a in actions])


@router.post("/cases/{case_id}/actions", response_model=ActionOut, status_code=201, summary="Record a call, a promise to pay, a dispute...")
async def record_action(case_id: PathId, body: ActionIn, uow: UnitOfWorkDep, context: AlertsContextDep, principal: Work) -> ActionOut:
    action = await service.record_action(uow, context=context, case_id=case_id, action=body, actor=principal.actor_name)
    await uow.commit()
    return ActionOut.model_validate(action)


@router.get("/actions", response_model=WorkQueue, summary="The work queue: pending level actions due on or before a day (default today)")
async def work_queue(
    uow: UnitOfWorkDep,
    context: AlertsContextDep,
    _: Read,
    due_before: date | None = None,
    buyer_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> WorkQueue:
    rows, total = await service.work_queue(uow, context=context, due_before=due_before, buyer_id=buyer_id, limit=limit, offset=offset)
    items = [WorkItem(action=ActionOut.model_validate(a), case=CaseOut.model_validate(c)) for a, c in rows]
    return WorkQueue(items=items, total=total, limit=limit, offset=offset)


@router.get("/strategies", response_model=list[StrategyOut])
async def list_strategies(uow: UnitOfWorkDep, _: Read) -> list[StrategyOut]:
    return [StrategyOut.model_validate(s) for s in await service.list_strategies(uow)]


@router.put(
    "/strategies/{strategy_id}",
    response_model=StrategyOut,
    responses={201: {"model": StrategyOut, "description": "Created"}},
    summary="Create or replace a strategy",
)
async def put_strategy(strategy_id: PathId, body: StrategyIn, uow: UnitOfWorkDep, context: AlertsContextDep, response: Response, _: Work) -> StrategyOut:
    if body.id != strategy_id:
        raise Unprocessable("The body's id must match the path.", field="id")
    strategy, created = await service.put_strategy(uow, context=context, strategy=body)
    await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return StrategyOut.model_validate(strategy)
