"""ERP orders: each buyer orders on business days at its own rate, amounts scattered around its
usual order size. Draws are seeded by buyer, so both runs of a seed see the same orders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from creditguard_simulation.book import Buyer
from creditguard_simulation.calendar import SimulatedCalendar

BUSINESS_DAYS_PER_YEAR = 261
MINIMUM_ORDER = Decimal("100.00")


@dataclass(frozen=True)
class Order:
    order_id: str
    buyer_id: str
    day: int
    amount: Decimal
    terms_days: int


def buyer_orders(buyer: Buyer, *, calendar: SimulatedCalendar, seed: int) -> list[Order]:
    """Every order the buyer places over the simulated period (none on or after its default day)."""
    rng = random.Random(f"order:{seed}:{buyer.buyer_id}")
    orders = []
    for day in range(calendar.days):
        if not calendar.is_business_day(day):
            continue
        draw, spread = rng.random(), rng.lognormvariate(0, 0.35)
        if draw >= buyer.orders_per_year / BUSINESS_DAYS_PER_YEAR or (buyer.default_day is not None and day >= buyer.default_day):
            continue
        amount = max((buyer.mean_order * Decimal(str(spread))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), MINIMUM_ORDER)
        orders.append(Order(order_id=f"SO-{buyer.buyer_id}-{day:03d}", buyer_id=buyer.buyer_id, day=day, amount=amount, terms_days=buyer.payment_terms_days))
    return orders
