"""How pages answer errors."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from creditguard_console.pages import SignInRequired, render, safe_next, with_message
from creditguard_console.pages.security import MACHINE_PATHS
from creditguard_shared.errors import DomainError, problem_response


def install_page_errors(app: FastAPI) -> None:
    """Pages answer errors as pages: sign-in when the session is gone, back to the form with the
    message when a service refused a change, an error page otherwise."""

    @app.exception_handler(DomainError)
    async def _page_error(request: Request, exc: DomainError) -> Response:
        if request.url.path.startswith(MACHINE_PATHS):
            return problem_response(status=exc.status, problem_type=exc.problem_type, detail=exc.detail, instance=request.url.path, **exc.extensions)
        if isinstance(exc, SignInRequired):
            target = "/login" if request.method != "GET" else f"/login?next={quote(request.url.path + ('?' + request.url.query if request.url.query else ''))}"
            if request.headers.get("HX-Request"):
                return Response(status_code=401, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        if request.method == "POST" and exc.status in (409, 422):
            referer = urlsplit(request.headers.get("referer", ""))
            back = safe_next(referer.path + (f"?{referer.query}" if referer.query else ""), "/")
            return RedirectResponse(with_message(back, error=exc.detail[:300]), status_code=303)
        return render(request, "error.html", me=getattr(request.state, "signed_in", None), status_code=exc.status, status=exc.status, detail=exc.detail)
