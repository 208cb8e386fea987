"""ERP orders: each buyer orders on business days at its own rate, amounts scattered around its
usual order size. Draws are seeded by buyer, so every run of a seed sees the same orders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from creditguard_simulation.book import ONBOARDING_DAYS, Buyer
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


def _orders(buyer: Buyer, *, calendar: SimulatedCalendar, rng: random.Random, days: range, first_day: int) -> list[Order]:
    orders = []
    for day in days:
        if not calendar.is_business_day(day):
            continue
        # Both draws are taken every business day, so a later first day leaves the other days' orders as they were.
        draw, spread = rng.random(), rng.lognormvariate(0, 0.35)
        if day < first_day or draw >= buyer.orders_per_year / BUSINESS_DAYS_PER_YEAR or (buyer.default_day is not None and day >= buyer.default_day):
            continue
        amount = max((buyer.mean_order * Decimal(str(spread))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), MINIMUM_ORDER)
        orders.append(Order(order_id=f"SO-{buyer.buyer_id}-{day:03d}", buyer_id=buyer.buyer_id, day=day, amount=amount, terms_days=buyer.payment_terms_days))
    return orders


def buyer_orders(buyer: Buyer, *, calendar: SimulatedCalendar, seed: int) -> list[Order]:
    """Every order the buyer places over the simulated period (a new buyer's from a couple of days
    after it was won; none on or after its default day)."""
    first_day = buyer.joins_day + ONBOARDING_DAYS if buyer.is_new else 0
    return _orders(buyer, calendar=calendar, rng=random.Random(f"order:{seed}:{buyer.buyer_id}"), days=range(calendar.days), first_day=first_day)


def history_orders(buyer: Buyer, *, calendar: SimulatedCalendar, seed: int, history_days: int) -> list[Order]:
    """The orders an existing buyer placed before the first day, in the history the company brings
    (at most ``history_days``, and not before the relationship began): all shipped on credit."""
    if buyer.is_new:
        return []
    since = buyer.relationship_since
    first_day = max(-history_days, calendar.day_of(since)) if since is not None else -history_days
    # Negative order ids keep history and in-year orders apart: SO-B-00001-h012 is 12 days before the first day.
    orders = _orders(buyer, calendar=calendar, rng=random.Random(f"history:{seed}:{buyer.buyer_id}"), days=range(-history_days, 0), first_day=first_day)
    return [Order(order_id=f"SO-{buyer.buyer_id}-h{-o.day:03d}", buyer_id=o.buyer_id, day=o.day, amount=o.amount, terms_days=o.terms_days) for o in orders]
