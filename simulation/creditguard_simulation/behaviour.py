"""How buyers pay, by behaviour. Every draw is seeded by the invoice, so the same invoice is
paid the same way in the run through creditguard and in the counterfactual.

- on time: within a few days of the due date, now and then a week or so late;
- habitually late: around the buyer's usual delay (10-35 days), every time;
- deteriorating: later and later over the year (a few days at first, 40-70 days by the end);
- defaulting: pays like an on-time buyer until its slowdown window (60-120 days before its
  default day) begins, then later and later (up to 60-120 days late); it stops paying at all
  0-60 days before the default day (the insolvency filing), so whatever is open then is lost.
  Slow payers sometimes pay in two instalments.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from creditguard_simulation.book import Behaviour, Buyer

CENT = Decimal("0.01")


def _delay_days(buyer: Buyer, *, due_day: int, days: int, rng: random.Random) -> int:
    if buyer.behaviour is Behaviour.ON_TIME:
        return rng.randint(5, 12) if rng.random() < 0.1 else rng.randint(-3, 3)
    if buyer.behaviour is Behaviour.HABITUALLY_LATE:
        return max(1, buyer.usual_delay_days + rng.randint(-7, 7))
    if buyer.behaviour is Behaviour.DETERIORATING:
        return 2 + int(max(due_day, 0) / days * rng.uniform(40, 70))
    assert buyer.default_day is not None
    slowdown_starts = buyer.default_day - buyer.slowdown_days
    progress = min(max((due_day - slowdown_starts) / buyer.slowdown_days, 0.0), 1.0)
    return rng.randint(0, 5) + int(progress * rng.uniform(60, 120))


def payment_schedule(buyer: Buyer, *, invoice_id: str, amount: Decimal, due_day: int, days: int, seed: int) -> list[tuple[int, Decimal]]:
    """The instalments (day index, amount) in which the buyer will pay this invoice; a
    defaulter's instalments from the day it stops paying are left out: they never come."""
    rng = random.Random(f"pay:{seed}:{invoice_id}")
    pay_day = due_day + _delay_days(buyer, due_day=due_day, days=days, rng=rng)
    slow = buyer.behaviour is not Behaviour.ON_TIME and pay_day - due_day > 10
    if slow and rng.random() < 0.3:
        first = (amount / 2).quantize(CENT, rounding=ROUND_HALF_UP)
        instalments = [(pay_day - rng.randint(5, 10), first), (pay_day, amount - first)]
    else:
        instalments = [(pay_day, amount)]
    if buyer.stops_paying_day is not None:
        instalments = [(day, part) for day, part in instalments if day < buyer.stops_paying_day]
    return instalments
