"""Time as a dependency: services ask the runtime's clock, so tests (and the simulator, through the
development package's clock control) can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


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
