"""Pure payment-behaviour measures: no I/O, easy to test."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol


class PaymentExperience(Protocol):
    """One invoice as payment behaviour sees it: the service's stored experience, or any record with these."""

    @property
    def amount(self) -> Decimal: ...
    @property
    def open_amount(self) -> Decimal: ...
    @property
    def due_on(self) -> date: ...
    @property
    def settled_on(self) -> date | None: ...
    @property
    def max_days_past_due(self) -> int: ...


# Paydex-style anchor points (days beyond terms -> index): 80 is paying on terms, lower is later.
INDEX_ANCHORS: tuple[tuple[float, float], ...] = (
    (-20, 100),
    (-10, 90),
    (0, 80),
    (15, 70),
    (22, 60),
    (30, 50),
    (60, 40),
    (90, 30),
    (120, 20),
    (180, 0),
)


def payment_index(days_beyond_terms: float) -> float:
    """Piecewise-linear between the anchors, flat outside them."""
    if days_beyond_terms <= INDEX_ANCHORS[0][0]:
        return INDEX_ANCHORS[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(INDEX_ANCHORS):
        if days_beyond_terms <= x1:
            return round(y0 + (y1 - y0) * (days_beyond_terms - x0) / (x1 - x0), 1)
    return INDEX_ANCHORS[-1][1]


# Days past due at which the grade of a buyer with an open invoice moves: the due pass re-assesses
# a buyer when one of its open invoices crosses the next of them, with no event needed.
REVIEW_THRESHOLDS: tuple[int, ...] = (1, 15, 30, 60, 90)


def past_due_threshold(experience: PaymentExperience, *, as_of: date) -> int:
    """The highest review threshold an open invoice has reached (0 when settled or not that late)."""
    if experience.open_amount <= 0:
        return 0
    days = (as_of - experience.due_on).days
    return max((t for t in REVIEW_THRESHOLDS if days >= t), default=0)


def days_beyond_terms(experience: PaymentExperience, as_of: date) -> int | None:
    """Settled invoices count to their settlement date; open ones count only once overdue."""
    if experience.settled_on is not None:
        return (experience.settled_on - experience.due_on).days
    if as_of > experience.due_on:
        return (as_of - experience.due_on).days
    return None


@dataclass(frozen=True)
class PaymentBehaviourSummary:
    invoices_total: int
    invoices_open: int
    open_amount: Decimal
    overdue_amount: Decimal
    average_days_beyond_terms: float | None
    share_paid_late: float | None
    worst_days_past_due_12m: int
    # Days the oldest invoice still open is past its due date (0 when nothing open is overdue).
    current_days_past_due: int
    payment_index: float | None
    payment_index_trend_90d: float | None
    # Promises to pay made in collections and broken in the last 365 days.
    broken_promises_12m: int = 0


def _weighted_days(experiences: Sequence[PaymentExperience], as_of: date) -> float | None:
    weighted, weight = 0.0, 0.0
    for e in experiences:
        days = days_beyond_terms(e, as_of)
        if days is None:
            continue
        weighted += float(e.amount) * days
        weight += float(e.amount)
    return weighted / weight if weight else None


def summarise(experiences: Sequence[PaymentExperience], *, as_of: date, broken_promises: Sequence[date] = ()) -> PaymentBehaviourSummary:
    """``broken_promises``: the dates promises to pay were found broken."""
    settled = [e for e in experiences if e.settled_on is not None]
    open_ = [e for e in experiences if e.open_amount > 0]
    overdue = sum((e.open_amount for e in open_ if e.due_on < as_of), Decimal("0.00"))
    average = _weighted_days(experiences, as_of)
    late = [e for e in settled if e.settled_on and e.settled_on > e.due_on]
    year_ago = as_of - timedelta(days=365)
    worst = 0
    current_worst = max(((as_of - e.due_on).days for e in open_ if as_of > e.due_on), default=0)
    for e in experiences:
        if e.due_on < year_ago:
            continue
        current = (as_of - e.due_on).days if e.open_amount > 0 and as_of > e.due_on else 0
        worst = max(worst, e.max_days_past_due, current)
    recent = [e for e in experiences if e.due_on > as_of - timedelta(days=90)]
    previous = [e for e in experiences if as_of - timedelta(days=180) < e.due_on <= as_of - timedelta(days=90)]
    recent_days, previous_days = _weighted_days(recent, as_of), _weighted_days(previous, as_of)
    trend = round(payment_index(recent_days) - payment_index(previous_days), 1) if recent_days is not None and previous_days is not None else None
    return PaymentBehaviourSummary(
        invoices_total=len(experiences),
        invoices_open=len(open_),
        open_amount=sum((e.open_amount for e in open_), Decimal("0.00")),
        overdue_amount=overdue,
        average_days_beyond_terms=round(average, 1) if average is not None else None,
        share_paid_late=round(len(late) / len(settled), 4) if settled else None,
        worst_days_past_due_12m=worst,
        current_days_past_due=current_worst,
        payment_index=payment_index(average) if average is not None else None,
        payment_index_trend_90d=trend,
        broken_promises_12m=sum(1 for broken_on in broken_promises if year_ago < broken_on <= as_of),
    )
