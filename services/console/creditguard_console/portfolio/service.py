"""The book at a glance: totals, utilisation and concentration and the cash-in forecast from limits,
the riskiest accounts from scoring."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from creditguard_console.models.people import Person
from creditguard_console.upstream.client import Upstream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Portfolio:
    figures: dict[str, Any]
    forecast: dict[str, Any]
    riskiest: list[dict[str, Any]]
    names: dict[str, str]
    fetched_at: datetime


class PortfolioCache:
    """The book's figures, the same for every person, kept for a while: limits computes them from
    every account and open invoice (seconds for a large book), and a desk looks at them often. A
    stale copy is shown while a fresh one is fetched in the background (stale-while-revalidate)."""

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds
        self._value: Portfolio | None = None
        self._fetched = 0.0
        self._refresh: asyncio.Task[None] | None = None

    async def get(self, fetch: Callable[[], Awaitable[Portfolio]]) -> Portfolio:
        if self._value is None or self.seconds <= 0:
            return self._store(await fetch())
        if time.monotonic() - self._fetched > self.seconds and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._refetch(fetch))
        return self._value

    def _store(self, value: Portfolio) -> Portfolio:
        self._value, self._fetched = value, time.monotonic()
        return value

    async def _refetch(self, fetch: Callable[[], Awaitable[Portfolio]]) -> None:
        try:
            self._store(await fetch())
        except Exception:  # the stale figures stay; the next request tries again
            logger.warning("refreshing the portfolio figures failed; showing the previous ones", exc_info=True)


# The console itself, reading the book's figures at start-up as a read-only person, so that the
# first person to open the portfolio does not wait while limits computes them from every account.
WARM_UP_READER = Person(person_id="console", email="console@localhost", name="creditguard console", role="read_only")


async def warm_up(cache: PortfolioCache, fetch: Callable[[], Awaitable[Portfolio]], *, attempts: int = 20, pause_seconds: float = 3.0) -> bool:
    """Fills the cache once, retrying while the services are still starting; whether it did."""
    for attempt in range(attempts):
        try:
            await cache.get(fetch)
            return True
        except Exception:  # noqa: BLE001 - a service not up yet; the first view fetches if this never succeeds
            if attempt + 1 < attempts:
                await asyncio.sleep(pause_seconds)
    logger.warning("could not fetch the portfolio figures at start-up; the first view will")
    return False


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
    return Portfolio(figures=figures, forecast=forecast, riskiest=risky["items"], names=names, fetched_at=datetime.now(UTC))
