"""Periodic background tasks; each has an endpoint that runs one pass now for tests and operators
(``POST /v1/assessments/due/run``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from creditguard_scoring.assessment.service import run_due_reassessments
from creditguard_scoring.context import ScoringContext
from creditguard_shared.service_app import ServiceRuntime

logger = logging.getLogger(__name__)


def debounced_reassessment_task(context: ScoringContext, *, interval_seconds: float) -> Callable[[ServiceRuntime], Awaitable[None]]:
    """Re-assess the buyers whose debounce window has passed, every ``interval_seconds``."""

    async def debounced_reassessment(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await run_due_reassessments(runtime.uow_factory, context=context.assessment, now=runtime.clock.now())
            except Exception:
                # The database may be briefly unreachable; the buyers stay due for the next pass.
                logger.exception("debounced re-assessment pass failed")

    return debounced_reassessment
