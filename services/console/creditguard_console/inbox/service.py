"""A person's inbox: the unresolved alerts and the holds of the accounts they own (buyers whose
account owner is their e-mail), from the alerts service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from creditguard_console.models.people import Person
from creditguard_console.upstream.client import Upstream


@dataclass(frozen=True)
class Inbox:
    owner: str | None
    alerts: list[dict[str, Any]]
    alerts_total: int
    holds: list[dict[str, Any]]
    holds_total: int
    names: dict[str, str]


async def load(upstream: Upstream, *, person: Person, owner: str | None, page: int, per_page: int = 50) -> Inbox:
    """``owner`` None means every account (credit managers may look at the whole book)."""
    owned = {"account_owner": owner} if owner else {}
    alerts, holds = await asyncio.gather(
        upstream.get("alerts", "/v1/alerts", person=person, params={**owned, "unresolved": "true", "limit": per_page, "offset": (page - 1) * per_page}),
        upstream.get("alerts", "/v1/buyer-profiles", person=person, params={**owned, "account_status": "on_hold", "limit": 200}),
    )
    buyer_ids = sorted({a["buyer_id"] for a in alerts["items"] if a["buyer_id"]})
    profiles = (
        await upstream.get("scoring", "/v1/buyers", person=person, params={"buyer_id": buyer_ids, "limit": len(buyer_ids)}) if buyer_ids else {"items": []}
    )
    return Inbox(
        owner=owner,
        alerts=alerts["items"],
        alerts_total=alerts["total"],
        holds=holds["items"],
        holds_total=holds["total"],
        names={b["buyer_id"]: b["name"] for b in profiles["items"]},
    )
