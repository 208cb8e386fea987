from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from creditguard_limits.fx.rules import to_cents

UTILISATION_BUCKETS = (("0-50", 0.5), ("50-80", 0.8), ("80-100", 1.0))
OVER_LIMIT_BUCKET = "100+"


def utilisation_bucket(utilisation: float) -> str:
    for name, upper in UTILISATION_BUCKETS:
        if utilisation < upper or (upper == 1.0 and utilisation <= upper):
            return name
    return OVER_LIMIT_BUCKET


def shares(amounts: dict[str, Decimal], *, top: int) -> list[dict[str, Any]]:
    """The largest ``top`` entries with their share of the total."""
    total = sum(amounts.values(), Decimal(0))
    ranked = sorted(((k, v) for k, v in amounts.items() if v > 0), key=lambda item: (-item[1], item[0]))[:top]
    return [{"key": key, "exposure": to_cents(value), "share": round(float(value / total), 4) if total > 0 else 0.0} for key, value in ranked]


def herfindahl(amounts: list[Decimal]) -> float:
    """Sum of squared shares: 1/N for an even book of N buyers, 1 for a single buyer."""
    total = sum(amounts, Decimal(0))
    if total <= 0:
        return 0.0
    return round(float(sum(((a / total) ** 2 for a in amounts), Decimal(0))), 6)


def group_by(items: list[tuple[str | None, Decimal]]) -> dict[str, Decimal]:
    grouped: dict[str, Decimal] = defaultdict(Decimal)
    for key, amount in items:
        grouped[key or "unknown"] += amount
    return dict(grouped)


def expected_payment_date(*, due_on: date, average_days_late: Decimal, today: date) -> date:
    """When the buyer's record says an invoice will be paid; late ones are expected from today."""
    return max(due_on + timedelta(days=int(average_days_late.to_integral_value())), today)


def week_index(*, on: date, today: date) -> int:
    return (on - today).days // 7
