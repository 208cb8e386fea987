"""Bulk limit import: upload a CSV, see what would change, confirm to apply."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from creditguard_console.context import ContextDep, UpstreamDep
from creditguard_console.imports import rules, service
from creditguard_console.pages import CheckedForm, Me, render, require
from creditguard_console.people.rules import Permission

router = APIRouter(tags=["imports"], include_in_schema=False)
MAX_FILE_BYTES = 2_000_000


@router.get("/imports/limits", response_class=HTMLResponse)
async def import_form(request: Request, me: Me) -> HTMLResponse:
    require(me, Permission.MANAGE_LIMITS)
    return render(request, "import.html", me=me)


async def _file_text(form: CheckedForm) -> str:
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise rules.FileProblem("The file is larger than 2 MB.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise rules.FileProblem("The file is not UTF-8 text.") from None
    # The confirmation posts the previewed text back, so exactly what was shown is applied.
    return str(form.get("content") or "")


@router.post("/imports/limits/preview", response_class=HTMLResponse)
async def import_preview(request: Request, me: Me, form: CheckedForm, context: ContextDep, upstream: UpstreamDep) -> HTMLResponse:
    require(me, Permission.MANAGE_LIMITS)
    try:
        text = await _file_text(form)
        lines = rules.parse(text, max_rows=context.settings.import_max_rows)
    except rules.FileProblem as problem:
        return render(request, "import.html", me=me, file_problem=str(problem), status_code=422)
    preview = await service.preview(upstream, person=me.person, lines=lines)
    return render(
        request,
        "import_preview.html",
        me=me,
        preview=preview,
        content=text,
        valid=sum(1 for p in preview if p.line.valid),
        invalid=sum(1 for p in preview if not p.line.valid),
    )


@router.post("/imports/limits/apply", response_class=HTMLResponse)
async def import_apply(request: Request, me: Me, form: CheckedForm, context: ContextDep, upstream: UpstreamDep) -> HTMLResponse:
    require(me, Permission.MANAGE_LIMITS)
    try:
        lines = rules.parse(str(form.get("content") or ""), max_rows=context.settings.import_max_rows)
    except rules.FileProblem as problem:
        return render(request, "import.html", me=me, file_problem=str(problem), status_code=422)
    results = await service.apply(upstream, person=me.person, lines=lines, default_reason="bulk import from the console")
    return render(request, "import_done.html", me=me, results=results, applied=sum(1 for r in results if r.outcome == "applied"))
