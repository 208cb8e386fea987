"""Pure calibration and back-test rules: what a default is, the statistics that compare predicted
PDs with realised defaults, and the fits a recalibration applies. No I/O; stdlib only (the
binomial test is exact, in log space).

A calibration maps the model's score to a PD: ``logit(PD) = intercept + slope * score_logit +
overlay``, where ``score_logit`` is the statistical score (financial model at the portfolio anchor,
profile, industry and country) and ``overlay`` the payment-behaviour and adverse-event points,
which act as odds multipliers on the calibrated PD (see docs/scoring.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

# An invoice still open this many days after its due date is a default (the usual 90-day rule).
DEFAULT_DAYS_PAST_DUE = 90
# Adverse events that are a default on the day they occur; court judgments and payment defaults
# registered elsewhere are warnings (they raise the PD), not defaults.
DEFAULT_EVENT_KINDS = frozenset({"insolvency_filing"})
GRADES = tuple(range(1, 11))
CONFIDENCE = 0.95
# Newton iterations for the fits; both converge in well under ten on any real book.
MAX_ITERATIONS = 50


class CalibrationSettings(Protocol):
    """The service settings a base calibration is made from."""

    portfolio_base_rate: float
    calibration_intercept: float
    calibration_slope: float


@dataclass(frozen=True)
class Calibration:
    """The calibration in force: version 0 is the one the settings define.

    ``logit(PD) = pivot + intercept + slope * (score_logit - pivot)`` before the payment and
    adverse-event points. The pivot is the logit of the portfolio base rate: the slope turns the
    scale about the book's average company, the intercept shifts every buyer alike, and a buyer
    without statements (scored at the base rate) moves by the intercept only.
    """

    version: int
    intercept: float
    slope: float
    pivot: float

    def apply(self, score_logit: float) -> float:
        return self.pivot + self.intercept + self.slope * (score_logit - self.pivot)

    @classmethod
    def from_settings(cls, settings: CalibrationSettings) -> Calibration:
        base_rate = settings.portfolio_base_rate
        return cls(version=0, intercept=settings.calibration_intercept, slope=settings.calibration_slope, pivot=math.log(base_rate / (1 - base_rate)))


# -- what a default is --------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFact:
    due_on: date
    settled_on: date | None  # the day the open amount reached zero; None while open


@dataclass(frozen=True)
class EventFact:
    kind: str
    occurred_on: date


def default_date(*, invoices: Iterable[InvoiceFact], events: Iterable[EventFact]) -> date | None:
    """The first day the buyer was in default: an insolvency filing, or an invoice still open
    ``DEFAULT_DAYS_PAST_DUE`` days after its due date (dated on that day)."""
    dates = [e.occurred_on for e in events if e.kind in DEFAULT_EVENT_KINDS]
    limit = timedelta(days=DEFAULT_DAYS_PAST_DUE)
    dates += [i.due_on + limit for i in invoices if i.settled_on is None or i.settled_on > i.due_on + limit]
    return min(dates, default=None)


# -- statistics ---------------------------------------------------------------------------------


def _log_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided p-value of ``k`` defaults among ``n`` at PD ``p``: the probability of every
    outcome no more likely than the observed one (the convention of R's binom.test)."""
    if n == 0:
        return 1.0
    observed = _log_pmf(k, n, p)
    # A relative tolerance, so outcomes as likely as the observed one count despite rounding.
    threshold = observed + math.log1p(1e-7)
    total = math.fsum(math.exp(lp) for i in range(n + 1) if (lp := _log_pmf(i, n, p)) <= threshold)
    return min(1.0, total)


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k)."""
    return min(1.0, math.fsum(math.exp(_log_pmf(i, n, p)) for i in range(k + 1)))


def _solve(f: Callable[[float], float], low: float, high: float) -> float:
    """Bisection of a decreasing function to its zero on [low, high]."""
    for _ in range(60):
        middle = (low + high) / 2
        if f(middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a default rate observed as ``k`` of ``n``."""
    if n == 0:
        return 0.0, 1.0
    alpha = (1 - confidence) / 2
    # Lower bound: the PD at which k or more defaults have probability alpha.
    low = 0.0 if k == 0 else _solve(lambda p: alpha - (1 - _cdf(k - 1, n, p)), 0.0, 1.0)
    # Upper bound: the PD at which k or fewer defaults have probability alpha.
    high = 1.0 if k == n else _solve(lambda p: _cdf(k, n, p) - alpha, 0.0, 1.0)
    return low, high


def brier_score(pds: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    if not pds:
        return None
    return math.fsum((p - (1.0 if y else 0.0)) ** 2 for p, y in zip(pds, outcomes, strict=True)) / len(pds)


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """ROC AUC (Mann-Whitney, ties at average rank); None unless both outcomes occur."""
    positives = sum(1 for y in outcomes if y)
    negatives = len(outcomes) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum += average_rank * sum(1 for m in range(i, j + 1) if outcomes[order[m]])
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def within_factor(observed: float, predicted: float, *, factor: float) -> bool:
    if predicted <= 0:
        return observed <= 0
    return predicted / factor <= observed <= predicted * factor


# -- the back-test ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One buyer of a back-test: the assessment in force at the start and what happened after."""

    buyer_id: str
    grade: int
    pd: float
    logit: float  # of the PD, as assessed
    score_logit: float | None  # before calibration; None for assessments made before calibrations existed
    overlay: float  # payment-behaviour and adverse-event points of that assessment
    defaulted: bool


@dataclass(frozen=True)
class GradeResult:
    grade: int
    buyers: int
    defaults: int
    mean_pd: float | None
    default_rate: float | None
    interval_low: float | None
    interval_high: float | None
    p_value: float | None
    # The mean PD lies inside the observed rate's 95 % interval, or within a factor of two of it.
    calibrated: bool | None


@dataclass(frozen=True)
class BacktestResult:
    buyers: int
    defaults: int
    mean_pd: float | None
    default_rate: float | None
    brier_score: float | None
    auc: float | None
    grades: tuple[GradeResult, ...]


def grade_result(grade: int, rows: Sequence[Observation]) -> GradeResult:
    n = len(rows)
    if n == 0:
        return GradeResult(grade, 0, 0, None, None, None, None, None, None)
    k = sum(1 for r in rows if r.defaulted)
    mean_pd = math.fsum(r.pd for r in rows) / n
    low, high = clopper_pearson(k, n)
    calibrated = low <= mean_pd <= high or within_factor(k / n, mean_pd, factor=2.0)
    return GradeResult(grade, n, k, mean_pd, k / n, low, high, binomial_two_sided_p(k, n, mean_pd), calibrated)


def backtest(observations: Sequence[Observation]) -> BacktestResult:
    pds = [o.pd for o in observations]
    outcomes = [o.defaulted for o in observations]
    n, k = len(observations), sum(outcomes)
    return BacktestResult(
        buyers=n,
        defaults=k,
        mean_pd=math.fsum(pds) / n if n else None,
        default_rate=k / n if n else None,
        brier_score=brier_score(pds, outcomes),
        auc=auc(pds, outcomes),
        grades=tuple(grade_result(g, [o for o in observations if o.grade == g]) for g in GRADES),
    )


# -- fitting a recalibration --------------------------------------------------------------------


class CannotFit(ValueError):
    """The window holds no defaults, or nothing but defaults: no calibration follows from it."""


def _check(outcomes: Sequence[bool]) -> None:
    if not outcomes:
        raise CannotFit("the back-test window holds no buyers")
    if all(outcomes) or not any(outcomes):
        raise CannotFit("the back-test window needs both buyers that defaulted and buyers that did not")


def fit_intercept_shift(logits: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Calibration in the large: the shift ``d`` of every logit so that the mean PD equals the
    observed default rate, ``mean(sigmoid(logit + d)) = k / n`` (bisection: the mean rises with d)."""
    _check(outcomes)
    target = sum(outcomes) / len(outcomes)
    return _solve(lambda d: target - math.fsum(sigmoid(x + d) for x in logits) / len(logits), -40.0, 40.0)


def _log_likelihood(a: float, b: float, scores: Sequence[float], offsets: Sequence[float], outcomes: Sequence[bool]) -> float:
    total = 0.0
    for x, o, y in zip(scores, offsets, outcomes, strict=True):
        z = a + b * x + o
        # log(sigmoid(z)) and log(1 - sigmoid(z)), stable for large |z|
        total += -math.log1p(math.exp(-z)) if z > 0 else z - math.log1p(math.exp(z))
        if not y:
            total -= z
    return total


def fit_logistic(scores: Sequence[float], offsets: Sequence[float], outcomes: Sequence[bool]) -> tuple[float, float]:
    """Logistic recalibration ``logit(PD) = a + b * score + offset`` by maximum likelihood (Newton
    with step halving, two parameters); the offset keeps the payment and adverse-event points as
    they are."""
    _check(outcomes)
    a, b = 0.0, 1.0
    likelihood = _log_likelihood(a, b, scores, offsets, outcomes)
    for _ in range(MAX_ITERATIONS):
        ga = gb = haa = hab = hbb = 0.0
        for x, o, y in zip(scores, offsets, outcomes, strict=True):
            p = sigmoid(a + b * x + o)
            w = p * (1 - p)
            r = (1.0 if y else 0.0) - p
            ga += r
            gb += r * x
            haa += w
            hab += w * x
            hbb += w * x * x
        determinant = haa * hbb - hab * hab
        if determinant <= 1e-12:
            raise CannotFit("the scores in the window do not vary enough to fit a slope")
        da = (hbb * ga - hab * gb) / determinant
        db = (haa * gb - hab * ga) / determinant
        step = 1.0
        while step > 1e-6:
            candidate = _log_likelihood(a + step * da, b + step * db, scores, offsets, outcomes)
            if candidate >= likelihood - 1e-12:
                break
            step /= 2
        a, b, likelihood = a + step * da, b + step * db, candidate
        if abs(step * da) < 1e-9 and abs(step * db) < 1e-9:
            break
    return a, b


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
