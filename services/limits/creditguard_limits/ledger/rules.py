from __future__ import annotations

from datetime import date

LATE_THRESHOLDS = (1, 15, 30, 60, 90)


def late_threshold_to_announce(*, due_on: date, today: date, announced: int) -> int | None:
    """The highest days-past-due threshold crossed and not yet announced. A sweep that missed
    days (or an invoice loaded late) announces only the highest one, not every step on the way."""
    days_past_due = (today - due_on).days
    crossed = [t for t in LATE_THRESHOLDS if t <= days_past_due and t > announced]
    return crossed[-1] if crossed else None
