"""The simulated calendar: day indices 0..days-1 from a start date, moved by the driver only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# Each simulated day the clocks are set to this time of day, so "today" is unambiguous.
BUSINESS_HOUR = time(9, 0)


@dataclass
class SimulatedCalendar:
    start: date
    days: int
    day: int = 0

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    @property
    def today(self) -> date:
        return self.date_of(self.day)

    def moment(self, day: int | None = None) -> datetime:
        return datetime.combine(self.date_of(self.day if day is None else day), BUSINESS_HOUR, tzinfo=UTC)

    def is_business_day(self, day: int) -> bool:
        return self.date_of(day).weekday() < 5

    def advance(self) -> None:
        if self.day + 1 >= self.days:
            raise ValueError("the simulated year is over")
        self.day += 1

    def day_of(self, when: date) -> int:
        return (when - self.start).days
