"""The portfolio figures are fetched once, shown stale while a fresh copy is fetched, and kept when
a refetch fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from creditguard_console.portfolio.service import Portfolio, PortfolioCache, warm_up


async def test_stale_while_revalidate() -> None:
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


async def test_the_figures_are_fetched_at_start_up_while_the_services_come_up():
    calls = 0

    async def fetch() -> Portfolio:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("limits is still starting")
        return Portfolio(figures={"n": calls}, forecast={}, riskiest=[], names={}, fetched_at=datetime.now(UTC))

    cache = PortfolioCache(seconds=60)
    assert await warm_up(cache, fetch, attempts=5, pause_seconds=0.01)
    # The first person to open the page gets the figures fetched at start-up, without waiting.
    assert (await cache.get(_fresh)).figures == {"n": 3} and calls == 3
    assert not await warm_up(PortfolioCache(seconds=60), _down, attempts=2, pause_seconds=0.01)


async def _down() -> Portfolio:
    raise ConnectionError("limits is down")
