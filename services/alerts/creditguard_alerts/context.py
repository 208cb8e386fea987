"""What alerts' service functions need besides the unit of work: the service clock's reading,
settings and metrics. One reading of the clock per unit of work, so every row a transaction writes
carries the same time and a moved test clock is seen by the next event. app.py builds one
``AlertsContextSource``; routes take their ``AlertsContext`` through ``AlertsContextDep``, Kafka
handlers through their subscriptions factory, background tasks from the source they are built with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from creditguard_alerts.metrics import AlertsMetrics
from creditguard_alerts.settings import Settings
from creditguard_shared.clock import Clock
from creditguard_shared.consumer import EventHandler
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AlertsContext:
    now: datetime
    settings: Settings
    metrics: AlertsMetrics

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class AlertsContextSource:
    """Built once per app: each unit of work takes its context from here, as of its start."""

    settings: Settings
    clock: Clock
    metrics: AlertsMetrics

    def now(self) -> AlertsContext:
        return AlertsContext(now=self.clock.now(), settings=self.settings, metrics=self.metrics)

    def with_context_now(self, handler: Callable[..., Awaitable[None]]) -> EventHandler:
        """A Kafka handler taking ``context=`` as a consumer's handler: each event gets the context
        as of its own handling."""

        async def handle(uow: UnitOfWork, event: Any, envelope: EventEnvelope) -> None:
            await handler(uow, event, envelope, context=self.now())

        return handle


# async: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop on every request.
async def alerts_context_source(request: Request) -> AlertsContextSource:
    return request.app.state.alerts


AlertsContextSourceDep = Annotated[AlertsContextSource, Depends(alerts_context_source)]


async def alerts_context(source: AlertsContextSourceDep) -> AlertsContext:
    return source.now()


AlertsContextDep = Annotated[AlertsContext, Depends(alerts_context)]
