"""The referral queue and the decisions taken on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from creditguard_console.context import ContextDep, UpstreamDep
from creditguard_console.pages import CheckedForm, Me, csv_download, redirect, render, require, safe_next
from creditguard_console.people.rules import Permission
from creditguard_console.referrals import service
from creditguard_console.referrals.schemas import SORT_LABELS, QueueFilters
from creditguard_shared.errors import Unprocessable

router = APIRouter(tags=["referrals"], include_in_schema=False)
EXPORT_CAP = 10_000


def queue_filters(request: Request) -> QueueFilters:
    params = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        return QueueFilters.model_validate(params)
    except ValidationError as invalid:
        fields = ", ".join(str(e["loc"][0]) for e in invalid.errors() if e.get("loc"))
        raise Unprocessable(f"These filters are not valid: {fields}.") from None


Filters = Annotated[QueueFilters, Depends(queue_filters)]


@router.get("/referrals", response_class=HTMLResponse)
async def referral_queue(request: Request, me: Me, context: ContextDep, upstream: UpstreamDep, filters: Filters) -> HTMLResponse:
    page = await service.queue(upstream, person=me.person, filters=filters, now=context.clock.now())
    return render(request, "referrals.html", me=me, page=page, filters=filters, sort_labels=SORT_LABELS, reason_codes=service.REASON_CODES)


@router.get("/referrals.csv")
async def referral_queue_csv(me: Me, context: ContextDep, upstream: UpstreamDep, filters: Filters) -> Response:
    rows = await service.whole_queue(upstream, person=me.person, filters=filters, now=context.clock.now(), cap=EXPORT_CAP)
    return csv_download(
        "referrals.csv",
        [
            "check_id",
            "order_id",
            "buyer_id",
            "buyer_name",
            "account_owner",
            "country",
            "amount",
            "currency",
            "payment_terms_days",
            "reasons",
            "grade",
            "pd",
            "limit",
            "limit_currency",
            "exposure_before",
            "exposure_after",
            "expected_contribution",
            "insured",
            "created_at",
            "age_hours",
        ],
        (
            [
                r.check["id"],
                r.check["order_id"],
                r.check["buyer_id"],
                (r.buyer or {}).get("name"),
                (r.buyer or {}).get("account_owner"),
                (r.buyer or {}).get("country"),
                r.check["amount"],
                r.check["currency"],
                r.check["payment_terms_days"],
                " ".join(reason["code"] for reason in r.check["reasons"]),
                (r.buyer or {}).get("grade"),
                (r.buyer or {}).get("pd"),
                r.check["limit"],
                r.check["limit_currency"],
                r.check["exposure_before"],
                r.check["exposure_after"],
                r.expected_contribution,
                r.insured,
                r.check["created_at"],
                round(r.age_hours, 1),
            ]
            for r in rows
        ),
    )


@router.post("/referrals/{check_id}/decision")
async def decide(check_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.DECIDE)
    back = safe_next(str(form.get("next") or ""), "/referrals")
    decision, comment = str(form.get("decision") or ""), str(form.get("comment") or "").strip()
    if decision not in ("approved", "rejected"):
        return redirect(back, error="Choose approve or reject.")
    if not comment:
        return redirect(back, error="A decision needs a comment.")
    check = await service.decide(upstream, person=me.person, check_id=check_id, decision=decision, comment=comment[:1000])
    return redirect(back, notice=f"Order {check['order_id']} {decision} by {check['decided_by']}.")
