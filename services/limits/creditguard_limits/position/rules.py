"""Pure exposure arithmetic on the per-currency totals the repository aggregates."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.policy.rules import UninsuredAction

ZERO = Decimal("0.00")
# Lower bound (days past due) of each overdue bucket, in order.
OVERDUE_BUCKET_STARTS = (("1-15", 1), ("16-30", 16), ("31-60", 31), ("61-90", 61), ("90+", 91))


@dataclass(frozen=True)
class InvoiceTotals:
    """One currency's open invoices: the open amount, the amount at least N days past due for
    each bucket start (cumulative), and the oldest overdue due date."""

    currency: str
    open_amount: Decimal
    past_due_at_least: dict[int, Decimal]
    oldest_overdue_due_on: date | None


@dataclass(frozen=True)
class Exposure:
    currency: str
    open_invoices: Decimal = ZERO
    open_orders: Decimal = ZERO
    # Cash received and not applied to an invoice: overpayments and payments of invoices not yet
    # known, less refunds. Money the buyer has already paid us, so it offsets what it owes.
    unapplied_cash: Decimal = ZERO
    overdue_by_bucket: dict[str, Decimal] = field(default_factory=lambda: {name: ZERO for name, _ in OVERDUE_BUCKET_STARTS})
    oldest_overdue_days: int = 0

    @functools.cached_property
    def total(self) -> Decimal:
        """Never below zero: cash held for a buyer covers what it owes and orders, but a credit
        balance is not credit on top of its limit."""
        return self.with_order(ZERO)

    def with_order(self, amount: Decimal) -> Decimal:
        """The total once an order of ``amount`` is reserved: unapplied cash left over covers it too."""
        return max(self.open_invoices + self.open_orders + amount - self.unapplied_cash, ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.overdue_by_bucket.values(), ZERO)


def compute_exposure(
    *,
    invoices: list[InvoiceTotals],
    orders: dict[str, Decimal],
    rates: RateTable,
    currency: str,
    today: date,
    cash: dict[str, Decimal] | None = None,
) -> Exposure:
    """``cash``: unapplied cash by currency. Runs for every buyer whose position a change
    publishes (hundreds per ledger batch): one pass over the totals, and amounts already in
    ``currency`` skip conversion."""

    def converted(amount: Decimal, from_currency: str) -> Decimal:
        return amount if from_currency == currency else rates.convert(Decimal(amount), from_currency=from_currency, to_currency=currency)

    open_invoices = ZERO
    # Amount at least N days past due, for each bucket start in order (cumulative).
    past_due = [ZERO] * len(OVERDUE_BUCKET_STARTS)
    oldest: date | None = None
    for totals in invoices:
        open_invoices += converted(totals.open_amount, totals.currency)
        if totals.oldest_overdue_due_on is None:
            # Nothing of this currency is past due: every bucket is zero.
            continue
        if oldest is None or totals.oldest_overdue_due_on < oldest:
            oldest = totals.oldest_overdue_due_on
        for index, (_, start) in enumerate(OVERDUE_BUCKET_STARTS):
            if amount := totals.past_due_at_least.get(start):
                past_due[index] += converted(amount, totals.currency)
    cumulative = [to_cents(amount) for amount in past_due]
    buckets = {
        name: cumulative[index] - (cumulative[index + 1] if index + 1 < len(cumulative) else ZERO) for index, (name, _) in enumerate(OVERDUE_BUCKET_STARTS)
    }
    return Exposure(
        currency=currency,
        open_invoices=to_cents(open_invoices),
        open_orders=to_cents(sum((converted(amount, from_currency) for from_currency, amount in orders.items()), ZERO)),
        unapplied_cash=to_cents(sum((converted(amount, from_currency) for from_currency, amount in (cash or {}).items()), ZERO)),
        overdue_by_bucket=buckets,
        oldest_overdue_days=(today - oldest).days if oldest is not None else 0,
    )


@dataclass(frozen=True)
class Cover:
    """Insurance cover converted into the position's currency."""

    policy_id: str
    insurer: str
    granted: Decimal
    indemnity_percentage: Decimal
    max_credit_period_days: int
    uninsured_action: UninsuredAction


@dataclass(frozen=True)
class GroupPosition:
    group_id: str
    limit: Decimal
    exposure: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.exposure, ZERO)


@dataclass(frozen=True)
class Position:
    """Everything a credit check or an exposure read needs about one buyer, in one currency."""

    buyer_id: str
    currency: str
    base_limit: Decimal | None
    temporary_increase: Decimal
    exposure: Exposure
    group: GroupPosition | None
    cover: Cover | None

    @property
    def limit(self) -> Decimal | None:
        return None if self.base_limit is None else self.base_limit + self.temporary_increase

    @property
    def available(self) -> Decimal | None:
        """The lower of the buyer's own headroom and its group's, never below zero."""
        own = None if self.limit is None else max(self.limit - self.exposure.total, ZERO)
        if self.group is None:
            return own
        return self.group.available if own is None else min(own, self.group.available)

    @property
    def utilisation(self) -> float | None:
        if self.limit is None or self.limit <= 0:
            return None
        return round(float(self.exposure.total / self.limit), 4)

    def insured_part(self, exposure_total: Decimal) -> Decimal:
        return min(exposure_total, self.cover.granted) if self.cover is not None else ZERO

    @property
    def insured(self) -> Decimal:
        return self.insured_part(self.exposure.total)

    @property
    def uninsured(self) -> Decimal:
        return self.exposure.total - self.insured


def uninsured_share(position: Position) -> Decimal:
    """Share of the exposure a default would cost: the uninsured part plus the insured part's
    retention (what the indemnity percentage leaves to us)."""
    total = position.exposure.total
    if total <= 0:
        return Decimal(0)
    retention = Decimal(0)
    if position.cover is not None:
        retention = position.insured * (Decimal(100) - position.cover.indemnity_percentage) / Decimal(100)
    return (position.uninsured + retention) / total


def breakdown(position: Position) -> dict[str, Any]:
    """JSON-ready breakdown stored with every decision and returned by the exposure read."""
    exposure = position.exposure
    return {
        "currency": position.currency,
        "limit": _text(position.limit),
        "base_limit": _text(position.base_limit),
        "temporary_increase": _text(position.temporary_increase),
        "open_invoices": _text(exposure.open_invoices),
        "open_orders": _text(exposure.open_orders),
        "unapplied_cash": _text(exposure.unapplied_cash),
        "exposure": _text(exposure.total),
        "overdue": _text(exposure.overdue),
        "overdue_by_bucket": {k: _text(v) for k, v in exposure.overdue_by_bucket.items()},
        "oldest_overdue_days": exposure.oldest_overdue_days,
        "available": _text(position.available),
        "group": None
        if position.group is None
        else {
            "group_id": position.group.group_id,
            "limit": _text(position.group.limit),
            "exposure": _text(position.group.exposure),
            "available": _text(position.group.available),
        },
        "insured": _text(position.insured),
        "uninsured": _text(position.uninsured),
    }


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(to_cents(amount))
