from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditguard_console.context import UpstreamDep
from creditguard_console.pages import Me, csv_download, render
from creditguard_console.search import service

router = APIRouter(tags=["search"], include_in_schema=False)
PER_PAGE = 50


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, me: Me, upstream: UpstreamDep, q: str = Query("", max_length=200), page: int = Query(1, ge=1)) -> HTMLResponse:
    q = q.strip()
    found = await service.search(upstream, person=me.person, q=q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE) if q else None
    # htmx asks for the results alone while the person types.
    template = "search_results.html" if request.headers.get("HX-Request") else "search.html"
    return render(request, template, me=me, q=q, found=found, page=page, per_page=PER_PAGE)


@router.get("/search.csv")
async def search_csv(me: Me, upstream: UpstreamDep, q: str = Query(..., min_length=1, max_length=200)) -> Response:
    found = await service.search(upstream, person=me.person, q=q.strip(), limit=500)
    return csv_download(
        "buyers.csv",
        ["buyer_id", "name", "country", "industry", "account_owner", "grade", "pd"],
        ([b["buyer_id"], b["name"], b["country"], b["industry"], b["account_owner"], b["grade"], b["pd"]] for b in found["items"]),
    )
