from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_alerts import jobs
from creditguard_alerts.context import AlertsContextDep
from creditguard_alerts.early_warning import service
from creditguard_alerts.early_warning.rules import RuleType
from creditguard_alerts.early_warning.schemas import AlertComment, AlertOut, AlertPage, RuleIn, RuleOut, RulePatch, SweepResult
from creditguard_alerts.models.severity import Severity
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import MAX_OFFSET, PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["alerts"])

Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
Acknowledge = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
AlertStatus = Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")]


@router.get("/alerts", response_model=AlertPage, summary="Alerts, newest first, filtered and paged")
async def list_alerts(
    uow: UnitOfWorkDep,
    _: Read,
    buyer_id: str | None = None,
    severity: Severity | None = None,
    status: AlertStatus = None,
    rule_type: RuleType | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    account_owner: str | None = Query(None, min_length=1, max_length=200, description="Only alerts on the buyers this person owns"),
    unresolved: bool = Query(False, description="Only open and acknowledged alerts"),
) -> AlertPage:
    alerts, total = await service.page_alerts(
        uow,
        buyer_id=buyer_id,
        severity=severity,
        status=status,
        rule_type=rule_type,
        limit=limit,
        offset=offset,
        account_owner=account_owner,
        unresolved=unresolved,
    )
    return AlertPage(items=[AlertOut.model_validate(a) for a in alerts], total=total, limit=limit, offset=offset)


@router.get("/alerts/{alert_id}", response_model=AlertOut)
async def get_alert(alert_id: PathId, uow: UnitOfWorkDep, _: Read) -> AlertOut:
    return AlertOut.model_validate(await service.get_alert(uow, alert_id=alert_id))


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge: someone is on it")
async def acknowledge(alert_id: PathId, body: AlertComment, uow: UnitOfWorkDep, context: AlertsContextDep, principal: Acknowledge) -> AlertOut:
    alert = await service.acknowledge(uow, context=context, alert_id=alert_id, by=principal.actor_name, comment=body.comment)
    await uow.commit()
    return AlertOut.model_validate(alert)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut, summary="Resolve by hand, with a comment")
async def resolve(alert_id: PathId, body: AlertComment, uow: UnitOfWorkDep, context: AlertsContextDep, principal: Manage) -> AlertOut:
    alert = await service.resolve(uow, context=context, alert_id=alert_id, by=principal.actor_name, comment=body.comment)
    await uow.commit()
    return AlertOut.model_validate(alert)


@router.post("/alerts/sweep", response_model=SweepResult, summary="Run the time-driven rules and collection escalation now")
async def sweep_now(uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> SweepResult:
    checked = await jobs.sweep(uow, context=context)
    await uow.commit()
    alerts_open, cases_open = await jobs.refresh_gauges(uow, context=context)
    return SweepResult(**checked, alerts_open=alerts_open, collection_cases_open=cases_open)


@router.get("/alert-rules", response_model=list[RuleOut])
async def list_rules(uow: UnitOfWorkDep, _: Read) -> list[RuleOut]:
    return [RuleOut.model_validate(r) for r in await service.list_rules(uow)]


@router.post("/alert-rules", response_model=RuleOut, status_code=201)
async def create_rule(body: RuleIn, uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> RuleOut:
    rule = await service.create_rule(uow, context=context, rule=body)
    await uow.commit()
    return RuleOut.model_validate(rule)


@router.patch("/alert-rules/{rule_id}", response_model=RuleOut)
async def update_rule(rule_id: PathId, body: RulePatch, uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> RuleOut:
    rule = await service.update_rule(uow, context=context, rule_id=rule_id, patch=body)
    await uow.commit()
    return RuleOut.model_validate(rule)
