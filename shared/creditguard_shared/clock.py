"""Time as a dependency: services ask the runtime's clock, so tests (and the simulator) can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Depends
from pydantic import BaseModel, model_validator

from creditguard_shared.auth import Role, require_roles


class Clock:
    """System time, optionally shifted; ``set``/``advance`` exist for controllable test clocks."""

    def __init__(self, *, fixed: datetime | None = None) -> None:
        self._fixed = fixed
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._fixed if self._fixed is not None else datetime.now(UTC)
        return base + self._offset

    def today(self) -> date:
        return self.now().date()

    def set(self, moment: datetime) -> None:
        self._fixed = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        self._offset = timedelta()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


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
