"""What alerts' service functions need besides the unit of work: the service clock's reading,
settings and metrics. One reading of the clock per unit of work, so every row a transaction writes
carries the same time and a moved test clock is seen by the next event. Routes reach it through
``AlertsContextDep``, Kafka handlers through their subscriptions factory, background tasks through
``context_now``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from creditguard_alerts.metrics import AlertsMetrics
from creditguard_alerts.settings import Settings
from creditguard_shared.consumer import EventHandler
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.service_app import ServiceRuntime
from creditguard_shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AlertsContext:
    now: datetime
    settings: Settings
    metrics: AlertsMetrics

    @property
    def today(self) -> date:
        return self.now.date()


def context_now(runtime: ServiceRuntime) -> AlertsContext:
    """The context as of now, for one unit of work."""
    return AlertsContext(now=runtime.clock.now(), settings=runtime.settings, metrics=runtime.metrics)  # type: ignore[arg-type]


# async: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop on every request.
async def alerts_context(request: Request) -> AlertsContext:
    return context_now(request.app.state.runtime)


AlertsContextDep = Annotated[AlertsContext, Depends(alerts_context)]


def with_context_now(runtime: ServiceRuntime, handler: Callable[..., Awaitable[None]]) -> EventHandler:
    """A Kafka handler taking ``context=`` as a consumer's handler: each event gets the context as
    of its own handling."""

    async def handle(uow: UnitOfWork, event: Any, envelope: EventEnvelope) -> None:
        await handler(uow, event, envelope, context=context_now(runtime))

    return handle
