"""How urgent an alert is: the scale alert rules and alerts store, webhook subscriptions filter by
and the console sorts by. Beside the tables because every domain of the service speaks it."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_ORDER = tuple(Severity)


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(Severity(severity))


def at_least(severity: str, minimum: str | None) -> bool:
    return minimum is None or severity_rank(severity) >= severity_rank(minimum)
