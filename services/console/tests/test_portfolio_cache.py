"""The portfolio figures are fetched once, shown stale while a fresh copy is fetched, and kept when
a refetch fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from creditguard_console.portfolio.service import Portfolio, PortfolioCache


async def test_stale_while_revalidate():
    fetched: list[int] = []
    failing = False

    async def fetch() -> Portfolio:
        if failing:
            raise RuntimeError("limits is down")
        fetched.append(len(fetched) + 1)
        return Portfolio(figures={"n": len(fetched)}, forecast={}, riskiest=[], names={}, fetched_at=datetime.now(UTC))

    cache = PortfolioCache(seconds=0.05)
    assert (await cache.get(fetch)).figures == {"n": 1}
    assert (await cache.get(fetch)).figures == {"n": 1} and fetched == [1]  # fresh: no call
    await asyncio.sleep(0.06)
    assert (await cache.get(fetch)).figures == {"n": 1}  # stale answer at once ...
    await asyncio.sleep(0.01)
    assert (await cache.get(fetch)).figures == {"n": 2}  # ... fresh one fetched meanwhile
    failing = True
    await asyncio.sleep(0.06)
    await cache.get(fetch)
    await asyncio.sleep(0.01)
    assert (await cache.get(fetch)).figures == {"n": 2}  # a failed refetch keeps the last figures
    assert (await PortfolioCache(seconds=0).get(lambda: fetch() if not failing else _fresh())).figures == {"n": 0}


async def _fresh() -> Portfolio:
    return Portfolio(figures={"n": 0}, forecast={}, riskiest=[], names={}, fetched_at=datetime.now(UTC))
