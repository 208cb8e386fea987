"""Sign-in and sign-out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditguard_console.context import ContextDep
from creditguard_console.pages import CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE, CheckedForm, DbSession, Me, render, safe_next
from creditguard_console.people import service as people
from creditguard_console.people.rules import PersonRole
from creditguard_console.sessions import service as sessions
from creditguard_shared.errors import Forbidden

router = APIRouter(tags=["sign-in"], include_in_schema=False)


def home_of(role: str) -> str:
    return "/inbox" if role == PersonRole.SALES else "/referrals"


def _login_page(request: Request, context: ContextDep, *, error: str | None = None, email: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        me=None,
        login_csrf=token,
        login_error=error,
        email=email,
        next=safe_next(request.query_params.get("next"), ""),
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=context.settings.cookie_secure, max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, context: ContextDep) -> HTMLResponse:
    return _login_page(request, context)


@router.post("/login")
async def login(
    request: Request,
    session: DbSession,
    context: ContextDep,
    email: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    next: str = Form(""),
) -> Response:
    form = await request.form()
    submitted, cookie = form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str):
        return _login_page(request, context, error="The form's CSRF token is missing: reload the page and sign in again.", email=email, status_code=403)
    try:
        sessions.check_csrf(cookie, submitted)
    except Forbidden:
        return _login_page(request, context, error="The form's CSRF token is wrong: reload the page and sign in again.", email=email, status_code=403)
    try:
        person = await people.sign_in(session, email=email, password=password, now=context.clock.now(), policy=context.sign_in_policy)
    except (people.SignInRefused, people.LockedOut) as refused:
        context.metrics.sign_ins.labels(context.metrics.service, "locked_out" if isinstance(refused, people.LockedOut) else "refused").inc()
        # The failure count must stick although sign-in failed.
        await session.commit()
        return _login_page(request, context, error=refused.detail, email=email, status_code=refused.status)
    context.metrics.sign_ins.labels(context.metrics.service, "signed_in").inc()
    token = await sessions.open_session(session, person=person, now=context.clock.now(), hours=context.settings.session_hours)
    await session.commit()
    response = RedirectResponse(safe_next(next, home_of(person.role)), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=context.settings.cookie_secure, max_age=int(context.settings.session_hours * 3600)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(me: Me, _: CheckedForm, session: DbSession) -> Response:
    await sessions.close_session(session, token_sha256=me.token_sha256)
    await session.commit()
    response = RedirectResponse("/login?notice=Signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(me: Me) -> Response:
    return RedirectResponse(home_of(me.person.role), status_code=303)
