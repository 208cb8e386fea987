"""A clock that moves on request: ``GET``/``PUT /internal/clock`` for the simulator and tests, which
run a year of business in an hour. A development tool: a service mounts it only when its
``<SERVICE>_CLOCK_CONTROL_ENABLED`` setting is on, and the production image does not install it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends
from pydantic import BaseModel, model_validator

from creditguard_shared.auth import Role, require_roles
from creditguard_shared.clock import Clock


class ClockChange(BaseModel):
    """Either an absolute moment or a step forward."""

    now: datetime | None = None
    advance_seconds: float | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        if (self.now is None) == (self.advance_seconds is None):
            raise ValueError("give exactly one of 'now' and 'advance_seconds'")
        return self


class ClockReading(BaseModel):
    now: datetime
    today: date


def clock_control_router(clock: Clock) -> APIRouter:
    router = APIRouter(prefix="/internal", tags=["test clock"], dependencies=[Depends(require_roles(Role.ADMIN))])

    @router.get("/clock", response_model=ClockReading)
    async def read_clock() -> ClockReading:
        return ClockReading(now=clock.now(), today=clock.today())

    @router.put("/clock", response_model=ClockReading)
    async def change_clock(change: ClockChange) -> ClockReading:
        if change.now is not None:
            clock.set(change.now)
        else:
            clock.advance(timedelta(seconds=change.advance_seconds or 0))
        return ClockReading(now=clock.now(), today=clock.today())

    return router
