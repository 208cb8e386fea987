"""Background work of the console: filling the portfolio cache once at start-up, so the first person
to open the portfolio page does not wait for the three services' figures."""

from __future__ import annotations

import asyncio

from creditguard_console.context import ConsoleContext
from creditguard_console.portfolio import service as portfolio_service


def start_portfolio_warm_up(context: ConsoleContext) -> asyncio.Task[bool] | None:
    """The warm-up task, or None when the settings turn it off or leave it nothing to fetch with."""
    settings, upstream = context.settings, context.upstream
    if upstream is None or not (settings.portfolio_warm_up and settings.api_key and settings.portfolio_cache_seconds > 0):
        return None
    return asyncio.create_task(
        portfolio_service.warm_up(context.portfolio_cache, lambda: portfolio_service.load(upstream, person=portfolio_service.WARM_UP_READER))
    )
