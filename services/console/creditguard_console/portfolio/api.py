from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from creditguard_console.context import ContextDep, UpstreamDep
from creditguard_console.pages import Me, charts, csv_download, render
from creditguard_console.portfolio import service

router = APIRouter(tags=["portfolio"], include_in_schema=False)


@router.get("/portfolio", response_class=HTMLResponse)
async def portfolio_page(request: Request, me: Me, context: ContextDep, upstream: UpstreamDep) -> HTMLResponse:
    portfolio = await context.portfolio_cache.get(lambda: service.load(upstream, person=me.person))
    utilisation = charts.column_bars([(k, float(v)) for k, v in portfolio.figures["utilisation_distribution"].items()], width=320, height=125)
    forecast = charts.column_bars([(w["week_start"][5:], float(w["expected_collections"])) for w in portfolio.forecast["weeks"]], width=900, height=145)
    return render(request, "portfolio.html", me=me, portfolio=portfolio, utilisation=utilisation, forecast=forecast)


@router.get("/portfolio/riskiest.csv")
async def riskiest_csv(me: Me, upstream: UpstreamDep) -> Response:
    portfolio = await service.load(upstream, person=me.person, riskiest=500)
    return csv_download(
        "riskiest-accounts.csv",
        ["buyer_id", "name", "country", "industry", "account_owner", "grade", "pd"],
        ([b["buyer_id"], b["name"], b["country"], b["industry"], b["account_owner"], b["grade"], b["pd"]] for b in portfolio.riskiest),
    )
