"""The account page and the actions taken from it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from creditguard_console.accounts import service
from creditguard_console.context import ContextDep, UpstreamDep
from creditguard_console.pages import CheckedForm, Me, charts, redirect, render, require, safe_next
from creditguard_console.people.rules import Permission
from creditguard_shared.errors import Unprocessable

router = APIRouter(tags=["accounts"], include_in_schema=False)


@router.get("/accounts/{buyer_id}", response_class=HTMLResponse)
async def account_page(buyer_id: str, request: Request, me: Me, context: ContextDep, upstream: UpstreamDep) -> HTMLResponse:
    account = await service.load(upstream, person=me.person, buyer_id=buyer_id)
    bars, centre, bars_height = charts.reason_bars((account.score or {}).get("reasons", []))
    line, points = charts.grade_line(account.grade_history)
    return render(
        request,
        "account.html",
        me=me,
        account=account,
        bars=bars,
        centre=centre,
        bars_height=bars_height,
        grade_line=line,
        grade_points=points,
        today=context.clock.now().date(),
    )


def _text(form: FormData, name: str, *, required: bool = True, max_length: int = 500) -> str:
    value = str(form.get(name) or "").strip()
    if required and not value:
        raise Unprocessable(f"'{name.replace('_', ' ')}' is required.")
    return value[:max_length]


def _amount(form: FormData, name: str, *, required: bool = True) -> str | None:
    value = _text(form, name, required=required).replace(",", "").replace(" ", "")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise Unprocessable(f"'{value}' is not an amount.") from None
    if amount < 0 or not amount.is_finite():
        raise Unprocessable(f"'{value}' is not an amount.")
    return str(amount)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"'{value}' is not a date (YYYY-MM-DD).") from None


def _date(form: FormData, name: str) -> date:
    return _parse_date(_text(form, name))


def _optional_date(form: FormData, name: str) -> date | None:
    value = _text(form, name, required=False)
    return _parse_date(value) if value else None


@router.post("/accounts/{buyer_id}/limit")
async def set_limit(buyer_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.MANAGE_LIMITS)
    terms = _text(form, "payment_terms_days")
    if not terms.isdigit():
        raise Unprocessable("Payment terms are a number of days.")
    await service.set_limit(
        upstream,
        person=me.person,
        buyer_id=buyer_id,
        amount=_amount(form, "amount") or "0",
        currency=_text(form, "currency").upper(),
        terms_days=int(terms),
        review_on=_optional_date(form, "review_on"),
        reason=_text(form, "reason"),
    )
    return redirect(f"/accounts/{buyer_id}", notice="Limit set.")


@router.post("/accounts/{buyer_id}/temporary-increase")
async def add_temporary_increase(buyer_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.MANAGE_LIMITS)
    await service.add_temporary_increase(
        upstream,
        person=me.person,
        buyer_id=buyer_id,
        amount=_amount(form, "amount") or "0",
        valid_from=_date(form, "valid_from"),
        valid_until=_date(form, "valid_until"),
        reason=_text(form, "reason"),
    )
    return redirect(f"/accounts/{buyer_id}", notice="Temporary increase added.")


@router.post("/accounts/{buyer_id}/status")
async def set_status(buyer_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.MANAGE_LIMITS)
    status = _text(form, "status")
    if status not in ("active", "on_hold", "blocked"):
        raise Unprocessable(f"'{status}' is not an account status.")
    await service.set_status(upstream, person=me.person, buyer_id=buyer_id, status=status, reason=_text(form, "reason"))
    return redirect(f"/accounts/{buyer_id}", notice={"active": "Account released.", "on_hold": "Account put on hold.", "blocked": "Account blocked."}[status])


@router.post("/accounts/{buyer_id}/cases/{case_id}/promise")
async def record_promise(buyer_id: str, case_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.COLLECT)
    await service.record_promise(
        upstream,
        person=me.person,
        case_id=case_id,
        promised_on=_date(form, "promised_on"),
        amount=_amount(form, "promised_amount", required=False),
        comment=_text(form, "comment", required=False, max_length=2000),
    )
    return redirect(f"/accounts/{buyer_id}", notice="Promise to pay recorded.")


@router.post("/alerts/{alert_id}/ack")
async def acknowledge_alert(alert_id: str, me: Me, form: CheckedForm, upstream: UpstreamDep) -> Response:
    require(me, Permission.ACKNOWLEDGE)
    await service.acknowledge_alert(upstream, person=me.person, alert_id=alert_id, comment=_text(form, "comment", required=False, max_length=2000))
    return redirect(safe_next(str(form.get("next") or ""), "/inbox"), notice="Alert acknowledged.")
