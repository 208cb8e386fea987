"""What every page route shares: templates, the database session, the signed-in person, the CSRF
check of form posts, redirects with a notice, and CSV downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from creditguard_console.context import ContextDep
from creditguard_console.people.rules import Permission, may
from creditguard_console.sessions import service as sessions
from creditguard_shared.errors import DomainError, Forbidden

SESSION_COOKIE = "cg_session"
# Before sign-in there is no session to hold a CSRF token: the login form's token is also set as
# a cookie, and the two must match (double submit).
LOGIN_CSRF_COOKIE = "cg_login_csrf"
CSRF_FIELD = "csrf_token"

templates = Jinja2Templates(directory=Path(str(resources.files("creditguard_console").joinpath("templates"))))
templates.env.globals["may"] = may
templates.env.globals["Permission"] = Permission
templates.env.filters["todate"] = date.fromisoformat


class SignInRequired(DomainError):
    status = 401
    problem_type = "sign-in-required"


async def database_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    assert context.session_factory is not None
    async with context.session_factory() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(database_session)]


async def signed_in(request: Request, session: DbSession, context: ContextDep) -> sessions.SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    found = await sessions.resolve(session, token=token, now=context.clock.now()) if token else None
    if found is None:
        raise SignInRequired("Sign in first.")
    request.state.signed_in = found
    return found


Me = Annotated[sessions.SignedIn, Depends(signed_in)]


async def checked_form(request: Request, me: Me) -> FormData:
    """Every form post of a signed-in person: refused unless it carries the session's CSRF token."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    sessions.check_csrf(me.csrf_token, token if isinstance(token, str) else None)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def require(me: sessions.SignedIn, permission: Permission) -> None:
    if not may(me.person.role, permission):
        raise Forbidden(f"A {me.person.role.replace('_', ' ')} may not do this.")


def render(request: Request, template: str, *, me: sessions.SignedIn | None, status_code: int = 200, **values: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {
            "me": me.person if me else None,
            "csrf_token": me.csrf_token if me else None,
            "notice": request.query_params.get("notice"),
            "error": request.query_params.get("error"),
            **values,
        },
        status_code=status_code,
    )


def redirect(path: str, *, notice: str | None = None, error: str | None = None) -> RedirectResponse:
    """After a form post: back to a page (303, so a reload does not post again), with a message
    in place of the one the page showed before."""
    return RedirectResponse(with_message(path, notice=notice, error=error), status_code=303)


def with_message(path: str, *, notice: str | None = None, error: str | None = None) -> str:
    parts = urlsplit(path)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("notice", "error")]
    kept += [(k, v) for k, v in (("notice", notice), ("error", error)) if v]
    return f"{parts.path}?{urlencode(kept)}" if kept else parts.path


def safe_next(path: str | None, default: str) -> str:
    """Only paths on this site: a crafted link must not send a person elsewhere after a post."""
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else default


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _csv_safe(v) for v in row])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection); names come
    # from the ERP and comments from people, so such text is quoted with a leading apostrophe.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
