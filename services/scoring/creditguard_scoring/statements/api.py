from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from creditguard_scoring.context import ScoringContextDep
from creditguard_scoring.statements import service
from creditguard_scoring.statements.schemas import StatementIn, StatementOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["financial statements"])

Write = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]


@router.post(
    "/buyers/{buyer_id}/financial-statements",
    response_model=StatementOut,
    status_code=201,
    responses={200: {"model": StatementOut, "description": "Replaces the year's statement, or already recorded"}},
    summary="Submit a fiscal year's statement (a re-send for the same year replaces it) and re-assess",
)
async def submit_statement(buyer_id: PathId, body: StatementIn, response: Response, uow: UnitOfWorkDep, context: ScoringContextDep, _: Write) -> StatementOut:
    now = context.clock.now()
    statement, created, changed = await service.submit_statement(uow, buyer_id=buyer_id, submitted=body, now=now)
    if changed:
        await context.reassessment.assess_now(uow, buyer_id=buyer_id, trigger="statement", now=now)
    ratios = next(r for s, r in await service.statements(uow, buyer_id=buyer_id) if s.fiscal_year == statement.fiscal_year)
    out = StatementOut.model_validate(statement).model_copy(update={"ratios": ratios})
    await uow.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return out


@router.get("/buyers/{buyer_id}/financial-statements", response_model=list[StatementOut], summary="The buyer's statements, newest first, with their ratios")
async def list_statements(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> list[StatementOut]:
    return [StatementOut.model_validate(s).model_copy(update={"ratios": r}) for s, r in await service.statements(uow, buyer_id=buyer_id)]
