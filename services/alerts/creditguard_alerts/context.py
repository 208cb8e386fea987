"""What service functions need besides the unit of work: the service clock's reading, settings
and metrics. Routes build it from the request's app; Kafka handlers (which the shared consumer
calls with only a unit of work and the event) from the runtime bound when the app starts, which
the consumer and background tasks inherit."""

from __future__ import annotations

from contextvars import ContextVar
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


_bound_runtime: ContextVar[ServiceRuntime] = ContextVar("alerts_runtime")


def bind_runtime(runtime: ServiceRuntime) -> None:
    _bound_runtime.set(runtime)


def context_of(runtime: ServiceRuntime) -> ServiceContext:
    return ServiceContext(now=runtime.clock.now(), settings=runtime.settings, metrics=runtime.metrics)  # type: ignore[arg-type]


def handler_context() -> ServiceContext:
    return context_of(_bound_runtime.get())


async def request_context(request: Request) -> ServiceContext:
    return context_of(request.app.state.runtime)


ContextDep = Annotated[ServiceContext, Depends(request_context)]
