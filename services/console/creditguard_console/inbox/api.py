from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditguard_console.context import UpstreamDep
from creditguard_console.inbox import service
from creditguard_console.pages import Me, csv_download, render
from creditguard_console.people.rules import PersonRole

router = APIRouter(tags=["inbox"], include_in_schema=False)


def _owner(me: Me, everyone: bool) -> str | None:
    # Sales see their own accounts only; others may widen the inbox to the whole book.
    return None if everyone and me.person.role != PersonRole.SALES else me.person.email


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request, me: Me, upstream: UpstreamDep, everyone: bool = Query(False, alias="all"), page: int = Query(1, ge=1)) -> HTMLResponse:
    inbox = await service.load(upstream, person=me.person, owner=_owner(me, everyone), page=page)
    return render(request, "inbox.html", me=me, inbox=inbox, everyone=inbox.owner is None, page=page)


@router.get("/inbox.csv")
async def inbox_csv(me: Me, upstream: UpstreamDep, everyone: bool = Query(False, alias="all")) -> Response:
    inbox = await service.load(upstream, person=me.person, owner=_owner(me, everyone), page=1, per_page=500)
    return csv_download(
        "inbox-alerts.csv",
        ["alert_id", "buyer_id", "buyer_name", "severity", "status", "title", "raised_at", "acknowledged_by"],
        (
            [a["id"], a["buyer_id"], inbox.names.get(a["buyer_id"] or ""), a["severity"], a["status"], a["title"], a["raised_at"], a["acknowledged_by"]]
            for a in inbox.alerts
        ),
    )
