"""The report's figures, computed from the run through creditguard and the counterfactual."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from creditguard_simulation.engine import RunResult

ZERO = Decimal(0)


@dataclass(frozen=True)
class Losses:
    gross: Decimal
    recovered: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.recovered


@dataclass(frozen=True)
class OrderFigures:
    count: int
    value: Decimal


@dataclass(frozen=True)
class CalibrationRow:
    grade: str
    buyers: int
    defaults: int
    # The mean probability of default scoring gave the grade's buyers when they were graded.
    mean_pd: float | None = None

    @property
    def default_rate(self) -> float:
        return self.defaults / self.buyers if self.buyers else 0.0

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Wilson's 95 % interval of the observed default rate."""
        if not self.buyers:
            return 0.0, 1.0
        n, rate = self.buyers, self.default_rate
        centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
        half = z * ((rate * (1 - rate) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    @property
    def calibrated(self) -> bool | None:
        """Observed within a factor of two of the predicted rate, or the prediction inside the 95 % interval."""
        if self.mean_pd is None or not self.buyers:
            return None
        low, high = self.interval()
        within_factor = self.mean_pd / 2 <= self.default_rate <= self.mean_pd * 2
        return within_factor or low <= self.mean_pd <= high


@dataclass(frozen=True)
class TurnedAway:
    buyer_id: str
    day: int
    amount: Decimal
    terms_days: int
    decision: str
    outcome: str
    reasons: tuple[str, ...]
    final_grade: int | None


LARGEST_TURNED_AWAY = 10


@dataclass(frozen=True)
class Figures:
    buyers: int
    days: int
    defaulters: int
    creditguard_losses: Losses
    counterfactual_losses: Losses
    creditguard_sales: Decimal
    counterfactual_sales: Decimal
    orders: int
    orders_by_decision: dict[str, int]
    good_turned_away: OrderFigures
    # What stopped them: each reason code the check gave, with the orders and value it was among the reasons for.
    good_turned_away_reasons: dict[str, OrderFigures]
    # The largest of them, so a reader can see which decisions cost the most margin.
    largest_good_turned_away: list[TurnedAway]
    good_delayed: OrderFigures
    good_delay_days_mean: float
    bad_stopped: OrderFigures
    creditguard_dso: float
    counterfactual_dso: float
    warning_leads: list[int]
    defaults_warned_late_or_never: int
    webhooks: int
    claims_in_time: int
    claims_missed: int
    counterfactual_claims_in_time: int
    counterfactual_claims_missed: int
    defaults_with_loss: int
    defaults_with_case: int
    promises: int
    calibration: list[CalibrationRow]
    wall_seconds: float

    @property
    def losses_avoided(self) -> Decimal:
        return self.counterfactual_losses.net - self.creditguard_losses.net


def losses(run: RunResult) -> Losses:
    defaults = run.defaults.values()
    return Losses(gross=sum((d.loss for d in defaults), ZERO), recovered=sum((d.recovered for d in defaults), ZERO))


def days_sales_outstanding(run: RunResult) -> float:
    """Average receivables over the period divided by average daily credit sales."""
    if not run.daily_receivables or run.invoiced_total == 0:
        return 0.0
    average_receivables = sum(run.daily_receivables, ZERO) / len(run.daily_receivables)
    return float(average_receivables / (run.invoiced_total / len(run.daily_receivables)))


def _orders(records: list) -> OrderFigures:
    return OrderFigures(count=len(records), value=sum((r.order.amount for r in records), ZERO))


def _largest(run: RunResult, records: list) -> list[TurnedAway]:
    return [
        TurnedAway(
            buyer_id=r.order.buyer_id,
            day=r.order.day,
            amount=r.order.amount,
            terms_days=r.order.terms_days,
            decision=r.decision,
            outcome=r.outcome,
            reasons=tuple(r.check.reasons) if r.check else (),
            final_grade=run.grades.get(r.order.buyer_id),
        )
        for r in sorted(records, key=lambda r: -r.order.amount)[:LARGEST_TURNED_AWAY]
    ]


def _by_reason(records: list) -> dict[str, OrderFigures]:
    reasons: dict[str, list] = {}
    for record in records:
        for code in record.check.reasons if record.check and record.check.reasons else ("no reason given",):
            reasons.setdefault(code, []).append(record)
    return {code: _orders(found) for code, found in sorted(reasons.items(), key=lambda item: -len(item[1]))}


def calibration(run: RunResult, defaulters: set[str]) -> list[CalibrationRow]:
    buyers = Counter("ungraded" if g is None else str(g) for g in run.grades.values())
    defaults = Counter("ungraded" if run.grades.get(b) is None else str(run.grades[b]) for b in defaulters if b in run.grades)
    pds: dict[str, list[float]] = {}
    for buyer_id, grade in run.grades.items():
        if grade is not None and buyer_id in run.pds:
            pds.setdefault(str(grade), []).append(run.pds[buyer_id])
    order = sorted((k for k in buyers if k != "ungraded"), key=int) + (["ungraded"] if "ungraded" in buyers else [])
    return [CalibrationRow(grade=k, buyers=buyers[k], defaults=defaults[k], mean_pd=statistics.fmean(pds[k]) if pds.get(k) else None) for k in order]


def _claims(run: RunResult) -> tuple[int, int]:
    outcomes = [d.report_in_time for d in run.defaults.values() if d.report_in_time is not None]
    return sum(outcomes), len(outcomes) - sum(outcomes)


def compute_figures(creditguard: RunResult, counterfactual: RunResult) -> Figures:
    defaulters = set(creditguard.defaults)
    good = [r for r in creditguard.orders if r.order.buyer_id not in defaulters]
    bad = [r for r in creditguard.orders if r.order.buyer_id in defaulters]
    delayed = [r for r in good if r.decision == "referred" and r.outcome == "invoiced"]
    # An invoiced order has its decision day.
    delay_days = [r.decided_day - r.order.day for r in delayed if r.decided_day is not None]
    leads = [d.day - d.first_warning_day for d in creditguard.defaults.values() if d.first_warning_day is not None and d.first_warning_day < d.day]
    in_time, missed = _claims(creditguard)
    cf_in_time, cf_missed = _claims(counterfactual)
    return Figures(
        buyers=len(creditguard.grades),
        days=creditguard.config.days,
        defaulters=len(defaulters),
        creditguard_losses=losses(creditguard),
        counterfactual_losses=losses(counterfactual),
        creditguard_sales=creditguard.invoiced_total,
        counterfactual_sales=counterfactual.invoiced_total,
        orders=len(creditguard.orders),
        orders_by_decision=dict(Counter(r.decision for r in creditguard.orders)),
        good_turned_away=_orders([r for r in good if r.outcome in ("rejected", "walked_away")]),
        good_turned_away_reasons=_by_reason([r for r in good if r.outcome in ("rejected", "walked_away")]),
        largest_good_turned_away=_largest(creditguard, [r for r in good if r.outcome in ("rejected", "walked_away")]),
        good_delayed=_orders(delayed),
        good_delay_days_mean=statistics.fmean(delay_days) if delay_days else 0.0,
        bad_stopped=_orders([r for r in bad if r.outcome in ("rejected", "walked_away")]),
        creditguard_dso=days_sales_outstanding(creditguard),
        counterfactual_dso=days_sales_outstanding(counterfactual),
        warning_leads=sorted(leads),
        defaults_warned_late_or_never=len(defaulters) - len(leads),
        webhooks=creditguard.webhooks,
        claims_in_time=in_time,
        claims_missed=missed,
        counterfactual_claims_in_time=cf_in_time,
        counterfactual_claims_missed=cf_missed,
        defaults_with_loss=len([d for d in creditguard.defaults.values() if d.loss > 0]),
        defaults_with_case=len([d for d in creditguard.defaults.values() if d.loss > 0 and d.buyer_id in creditguard.case_buyers]),
        promises=len(creditguard.promises),
        calibration=calibration(creditguard, defaulters),
        wall_seconds=creditguard.wall_seconds,
    )
