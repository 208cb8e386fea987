"""What service functions need besides the unit of work: the service clock's reading, settings
and metrics. Routes build it from the request's app, Kafka handlers and background tasks from
the running app's runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request

from creditguard_alerts.metrics import AlertsMetrics
from creditguard_alerts.settings import Settings
from creditguard_shared.service_app import ServiceRuntime


@dataclass(frozen=True)
class ServiceContext:
    now: datetime
    settings: Settings
    metrics: AlertsMetrics

    @property
    def today(self) -> date:
        return self.now.date()


# Read afresh for each event, so a moved test clock is seen at once.
ContextSource = Callable[[], ServiceContext]


def context_of(runtime: ServiceRuntime) -> ServiceContext:
    return ServiceContext(now=runtime.clock.now(), settings=runtime.settings, metrics=runtime.metrics)  # type: ignore[arg-type]


async def request_context(request: Request) -> ServiceContext:
    return context_of(request.app.state.runtime)


ContextDep = Annotated[ServiceContext, Depends(request_context)]
