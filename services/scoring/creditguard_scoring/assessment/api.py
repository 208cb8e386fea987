from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from creditguard_scoring.assessment import service
from creditguard_scoring.assessment.schemas import (
    AssessmentOut,
    AssessmentPage,
    BuyerIds,
    BuyerListItem,
    BuyerPage,
    PassOut,
    PeersOut,
    ScoreOut,
)
from creditguard_scoring.context import ScoringContextDep
from creditguard_scoring.models.assessment import Assessment
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import MAX_OFFSET, CountryCode, PathId
from creditguard_shared.service_app import UnitOfWorkDep, UnitOfWorkFactoryDep

router = APIRouter(prefix="/v1", tags=["assessment"])

Write = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES))]
ReadScore = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER, Role.SALES, Role.ERP))]


def render_score(assessment: Assessment, *, max_reasons: int) -> dict:
    statement = assessment.inputs.get("statement")
    payment = assessment.inputs.get("payment_behaviour") or {}
    return {
        "buyer_id": assessment.buyer_id,
        "assessment_id": assessment.assessment_id,
        "pd": assessment.pd,
        "grade": assessment.grade,
        "risk_class": assessment.risk_class,
        "reasons": assessment.reasons[:max_reasons],
        "assessed_at": assessment.assessed_at,
        "model_version": assessment.model_version,
        "financial_data_missing": assessment.financial_data_missing,
        "components": assessment.components,
        "data": {
            "statement": statement,
            "payment_behaviour": {k: payment.get(k) for k in ("as_of", "invoices_total", "payment_index")},
            "profile_updated_at": assessment.inputs.get("profile", {}).get("profile_updated_at"),
            "adverse_events": len(assessment.inputs.get("adverse_events", [])),
            "risk_tables": assessment.inputs.get("risk_tables"),
        },
    }


def render_assessment(assessment: Assessment) -> AssessmentOut:
    return AssessmentOut(**render_score(assessment, max_reasons=len(assessment.reasons)), trigger=assessment.trigger, inputs=assessment.inputs)


BuyerSearch = Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, or the start of the id (any case)")]
AccountOwner = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/buyers", response_model=BuyerPage, summary="Buyers with their current grade, searched, filtered, sorted and paged")
async def list_buyers(
    uow: UnitOfWorkDep,
    _: Read,
    grade: int | None = Query(None, ge=1, le=10),
    country: CountryCode | None = None,
    industry: str | None = Query(None, pattern=r"^(?:[A-U]|\d{2}(?:\.\d{1,2})?)$", description="NACE section or division"),
    q: BuyerSearch = None,
    account_owner: AccountOwner = None,
    buyer_id: list[str] | None = Query(None, max_length=500, description="Only these buyers (repeat the parameter)"),
    sort: Literal["buyer_id", "name", "-pd"] = "buyer_id",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> BuyerPage:
    rows, total = await service.list_buyers(
        uow, grade=grade, country=country, industry=industry, limit=limit, offset=offset, search=q, account_owner=account_owner, buyer_ids=buyer_id, sort=sort
    )
    items = [
        BuyerListItem(
            buyer_id=b.buyer_id,
            name=b.name,
            country=b.country,
            industry=b.industry,
            group_id=b.group_id,
            account_owner=b.account_owner,
            pd=s.pd if s else None,
            grade=s.grade if s else None,
            risk_class=s.risk_class if s else None,
            assessed_at=s.assessed_at if s else None,
        )
        for b, s in rows
    ]
    return BuyerPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/buyer-ids", response_model=BuyerIds, summary="The ids of the buyers a filter matches, for filtering another service's lists")
async def list_buyer_ids(
    uow: UnitOfWorkDep,
    _: Read,
    grade: int | None = Query(None, ge=1, le=10),
    country: CountryCode | None = None,
    q: BuyerSearch = None,
    account_owner: AccountOwner = None,
    limit: int = Query(100_000, ge=1, le=100_000),
) -> BuyerIds:
    ids = await service.buyer_ids(uow, grade=grade, country=country, account_owner=account_owner, search=q, limit=limit + 1)
    return BuyerIds(buyer_ids=ids[:limit], truncated=len(ids) > limit)


@router.get("/buyers/{buyer_id}/score", response_model=ScoreOut, summary="The buyer's current probability of default, grade and reasons")
async def get_score(buyer_id: PathId, uow: UnitOfWorkDep, context: ScoringContextDep, _: ReadScore) -> ScoreOut:
    assessment = await service.current_assessment(uow, buyer_id=buyer_id)
    return ScoreOut(**render_score(assessment, max_reasons=context.assessment.max_reasons))


@router.post("/buyers/{buyer_id}/assessments", response_model=AssessmentOut, status_code=201, summary="Re-assess the buyer now")
async def reassess(buyer_id: PathId, uow: UnitOfWorkDep, context: ScoringContextDep, _: Write) -> AssessmentOut:
    assessment = await service.assess_buyer(uow, context=context.assessment, buyer_id=buyer_id, trigger="api", now=context.clock.now())
    await uow.commit()
    return render_assessment(assessment)


@router.get("/buyers/{buyer_id}/assessments", response_model=AssessmentPage, summary="Every assessment of the buyer, newest first")
async def history(
    buyer_id: PathId, uow: UnitOfWorkDep, _: Read, limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET)
) -> AssessmentPage:
    assessments, total = await service.assessment_history(uow, buyer_id=buyer_id, limit=limit, offset=offset)
    return AssessmentPage(items=[render_assessment(a) for a in assessments], total=total, limit=limit, offset=offset)


@router.get("/buyers/{buyer_id}/peers", response_model=PeersOut, summary="Percentiles among the same industry and country, and in the whole book")
async def get_peers(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> PeersOut:
    score, cohorts = await service.peers(uow, buyer_id=buyer_id)
    return PeersOut(
        buyer_id=buyer_id,
        country=score.country,
        industry_section=score.industry_section,
        assessed_at=score.assessed_at,
        statement_date=score.statement_date,
        **cohorts,
    )


@router.post("/assessments/batch", response_model=PassOut, summary="Re-score the whole book now")
async def rescore_book(context: ScoringContextDep, uow_factory: UnitOfWorkFactoryDep, _: Write) -> PassOut:
    started = time.perf_counter()
    assessed, failed = await service.reassess_book(uow_factory, context=context.assessment, now=context.clock.now())
    seconds = time.perf_counter() - started
    return PassOut(assessed=assessed, failed=failed, seconds=round(seconds, 3), buyers_per_second=round(assessed / seconds, 1) if seconds else None)


@router.post("/assessments/due/run", response_model=PassOut, summary="Run the debounced re-assessment pass now")
async def run_due(
    context: ScoringContextDep,
    uow_factory: UnitOfWorkFactoryDep,
    _: Write,
    force: bool = Query(False, description="Also buyers whose debounce window has not elapsed"),
) -> PassOut:
    started = time.perf_counter()
    assessed = await service.run_due_reassessments(uow_factory, context=context.assessment, now=context.clock.now(), force=force)
    return PassOut(assessed=assessed, seconds=round(time.perf_counter() - started, 3))
