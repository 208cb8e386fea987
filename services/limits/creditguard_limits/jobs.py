"""Periodic background tasks; each has an endpoint that runs one pass now for tests and operators."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from creditguard_limits.context import LimitsContext
from creditguard_limits.ledger.service import run_daily_sweep
from creditguard_limits.portfolio.service import refresh_portfolio_metrics
from creditguard_shared.service_app import ServiceRuntime

logger = logging.getLogger(__name__)


def daily_sweep_task(context: LimitsContext) -> Callable[[ServiceRuntime], Awaitable[None]]:
    async def daily_sweep(runtime: ServiceRuntime) -> None:
        last_run: date | None = None
        while True:
            if runtime.clock.today() != last_run:
                try:
                    async with runtime.uow_factory() as uow:
                        result = await run_daily_sweep(uow, context=context)
                        await uow.commit()
                    last_run = runtime.clock.today()
                    logger.info("daily sweep done: %s", result)
                except Exception:  # the next wake-up retries
                    logger.exception("daily sweep failed")
            await asyncio.sleep(context.settings.daily_sweep_interval_seconds)

    return daily_sweep


def portfolio_metrics_task(context: LimitsContext) -> Callable[[ServiceRuntime], Awaitable[None]]:
    async def portfolio_metrics(runtime: ServiceRuntime) -> None:
        while True:
            try:
                async with runtime.uow_factory() as uow:
                    await refresh_portfolio_metrics(uow, context=context)
            except Exception:  # the next wake-up retries
                logger.exception("portfolio metrics refresh failed")
            await asyncio.sleep(context.settings.portfolio_metrics_interval_seconds)

    return portfolio_metrics
