"""The book at a glance: totals, utilisation and concentration and the cash-in forecast from limits,
the riskiest accounts from scoring."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from creditguard_console.people.models import Person
from creditguard_console.upstream.client import Upstream


@dataclass(frozen=True)
class Portfolio:
    figures: dict
    forecast: dict
    riskiest: list[dict]
    names: dict[str, str]


async def load(upstream: Upstream, *, person: Person, riskiest: int = 15) -> Portfolio:
    figures, forecast, risky = await asyncio.gather(
        upstream.get("limits", "/v1/portfolio", person=person),
        upstream.get("limits", "/v1/forecast/cash-in", person=person),
        upstream.get("scoring", "/v1/buyers", person=person, params={"sort": "-pd", "limit": riskiest}),
    )
    top_ids = [b["key"] for b in figures["top_buyers"]]
    names = {}
    if top_ids:
        page = await upstream.get("scoring", "/v1/buyers", person=person, params={"buyer_id": top_ids, "limit": len(top_ids)})
        names = {b["buyer_id"]: b["name"] for b in page["items"]}
    return Portfolio(figures=figures, forecast=forecast, riskiest=risky["items"], names=names)
