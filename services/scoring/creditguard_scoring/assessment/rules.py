"""Pure assessment rules: an additive logit model whose every term is a reason.

    score    = anchor + financial themes + profile + industry + country
    logit(PD) = intercept + slope * score + payment behaviour + adverse events

``anchor`` is the financial model's average company, prior-shifted to the portfolio's base rate;
``intercept`` and ``slope`` are the calibration in force (calibration/rules.py), fitted to the
book's realised defaults. Payment behaviour and adverse events act on the calibrated odds.
Each adjustment is in logit points (+0.69 roughly doubles the odds of default). A buyer with an
open insolvency filing or an invoice 90 or more days past due is in default: grade 10, PD 1.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from creditguard_scoring.calibration.rules import DEFAULT_DAYS_PAST_DUE, Calibration
from creditguard_scoring.financial_model.scorecard import FinancialAssessment, logit, sigmoid
from creditguard_scoring.payment_behaviour.rules import PaymentBehaviourSummary
from creditguard_shared.events.contracts import RiskClass
from creditguard_shared.nace import nace_division, nace_section

# Upper PD bound of grades 1..9; grade 10 is everything above, and default.
GRADE_UPPER_BOUNDS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.30)
DEFAULT_GRADE = 10
# A buyer in default has defaulted: its PD is certainty, whatever the score says.
DEFAULTED_PD = 1.0
# The highest grade of each class; the names are the events' enumeration.
RISK_CLASSES: tuple[tuple[int, str], ...] = ((3, RiskClass.LOW.value), (6, RiskClass.MEDIUM.value), (8, RiskClass.HIGH.value), (10, RiskClass.VERY_HIGH.value))

# Financial model ratios grouped into the themes a credit manager reads; ratios overlap heavily
# in the data, so a theme is a more honest reason than any one ratio.
FINANCIAL_THEMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "FIN_PROFITABILITY",
        "Profitability",
        ("X1", "X7", "X11", "X13", "X14", "X18", "X19", "X22", "X23", "X24", "X31", "X35", "X39", "X42", "X48", "X49", "X56", "X58"),
    ),
    ("FIN_CAPITAL", "Capital and leverage", ("X2", "X6", "X8", "X10", "X17", "X25", "X38", "X53", "X54", "X59")),
    ("FIN_DEBT_SERVICE", "Debt service capacity", ("X15", "X16", "X26", "X27", "X30", "X34", "X41")),
    ("FIN_LIQUIDITY", "Liquidity", ("X3", "X4", "X5", "X12", "X28", "X33", "X37", "X40", "X46", "X50", "X51", "X55", "X57")),
    ("FIN_ACTIVITY", "Turnover and working capital", ("X9", "X20", "X32", "X36", "X43", "X44", "X45", "X47", "X52", "X60", "X61", "X62", "X63", "X64")),
    ("FIN_GROWTH", "Sales growth", ("X21",)),
    ("FIN_SIZE", "Company size", ("X29",)),
)

# Payment index (80 = on terms) -> logit points, linear between anchors, flat outside.
PAYMENT_INDEX_ADJUSTMENTS: tuple[tuple[float, float], ...] = (
    (0, 3.0),
    (30, 2.2),
    (40, 1.6),
    (50, 1.0),
    (60, 0.5),
    (70, 0.0),
    (80, -0.4),
    (100, -0.5),
)
# Worst days past due in the last 12 months -> logit points (first threshold reached counts).
WORST_DPD_ADJUSTMENTS: tuple[tuple[int, float], ...] = ((90, 0.8), (60, 0.5), (30, 0.2))
# Days the oldest open invoice is past due today -> logit points (first threshold reached counts).
# They come on top of what the same invoice does to the payment index, the worst days past due
# and the overdue share: all together 30 days past due multiplies the odds by about eight, 60 by
# about thirty; 90 is default.
CURRENT_DPD_ADJUSTMENTS: tuple[tuple[int, float], ...] = ((DEFAULT_DAYS_PAST_DUE, 4.0), (60, 1.0), (30, 0.6), (15, 0.3), (1, 0.1))
OVERDUE_SHARE_THRESHOLD = 0.5
OVERDUE_SHARE_ADJUSTMENT = 0.3
# A payment index falling by TREND_THRESHOLD points over 90 days adds TREND_WORSENING_ADJUSTMENT,
# each further point TREND_POINT_ADJUSTMENT, up to TREND_MAX_ADJUSTMENT.
TREND_THRESHOLD = 10.0
TREND_WORSENING_ADJUSTMENT = 0.3
TREND_POINT_ADJUSTMENT = 0.03
TREND_MAX_ADJUSTMENT = 1.2
# Promises to pay broken in the last 12 months: the first adds BROKEN_PROMISE_FIRST_ADJUSTMENT, each
# further one BROKEN_PROMISE_FURTHER_ADJUSTMENT, up to BROKEN_PROMISE_MAX_ADJUSTMENT. A broken promise
# says the buyer cannot (or will not) pay even what it committed to, beyond its days past due.
BROKEN_PROMISE_FIRST_ADJUSTMENT = 0.5
BROKEN_PROMISE_FURTHER_ADJUSTMENT = 0.3
BROKEN_PROMISE_MAX_ADJUSTMENT = 1.2
# Company age in years -> logit points (first bound reached counts).
AGE_ADJUSTMENTS: tuple[tuple[float, float, str], ...] = (
    (2, 0.7, "founded less than 2 years ago"),
    (5, 0.35, "founded less than 5 years ago"),
)
MATURE_AGE_ADJUSTMENTS: tuple[tuple[float, float, str], ...] = (
    (20, -0.3, "in business for 20 years or more"),
    (10, -0.15, "in business for 10 years or more"),
)
# Adverse events: (kind, years they count, logit points unresolved, logit points resolved).
ADVERSE_EVENT_WEIGHTS: Mapping[str, tuple[int, float, float]] = {
    "insolvency_filing": (5, 6.0, 1.5),
    "court_judgment": (3, 0.9, 0.4),
    "payment_default": (3, 1.2, 0.5),
}
ADVERSE_EVENT_CAP = 2.5  # per kind, except an open insolvency, which means default anyway
STALE_STATEMENT_ADJUSTMENT = 0.3


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    contribution: float


@dataclass(frozen=True)
class RiskTableRow:
    name: str
    adjustment: float


@dataclass(frozen=True)
class RiskTable:
    """An editable table of logit adjustments with its provenance (``# source:``, ``# as_of:``)."""

    name: str
    source: str
    as_of: str
    rows: Mapping[str, RiskTableRow]
    default: RiskTableRow | None = None

    def lookup(self, code: str | None) -> tuple[str, RiskTableRow] | None:
        if code is None:
            return None
        key = normalise_code(code)
        if key in self.rows:
            return key, self.rows[key]
        return ("*", self.default) if self.default is not None else None


def normalise_code(code: str) -> str:
    return re.sub(r"[\s.]", "", code).lower()


def parse_risk_table(name: str, text: str) -> RiskTable:
    """CSV with ``code,name,adjustment`` and ``# key: value`` header lines; ``*`` is the default row."""
    metadata: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if value:
                metadata[key.strip().lower()] = value.strip()
        elif line.strip():
            body.append(line)
    rows: dict[str, RiskTableRow] = {}
    default = None
    for record in csv.DictReader(io.StringIO("\n".join(body))):
        adjustment = float(record["adjustment"])
        if not math.isfinite(adjustment):
            raise ValueError(f"{name}: adjustment for {record['code']} is not a number")
        row = RiskTableRow(name=record["name"], adjustment=adjustment)
        if record["code"] == "*":
            default = row
        else:
            rows[normalise_code(record["code"])] = row
    if "source" not in metadata or "as_of" not in metadata:
        raise ValueError(f"{name}: the table must say its '# source:' and '# as_of:'")
    return RiskTable(name=name, source=metadata["source"], as_of=metadata["as_of"], rows=rows, default=default)


@dataclass(frozen=True)
class RiskTables:
    industry: RiskTable
    country: RiskTable
    legal_form: RiskTable

    def provenance(self) -> dict[str, dict[str, str]]:
        return {t.name: {"source": t.source, "as_of": t.as_of} for t in (self.industry, self.country, self.legal_form)}


@dataclass(frozen=True)
class AdverseEventFact:
    kind: str
    occurred_on: date
    resolved_on: date | None


@dataclass(frozen=True)
class AssessmentInputs:
    as_of: date
    country: str
    industry: str | None
    legal_form: str | None
    founded_on: date | None
    financial: FinancialAssessment | None
    statement_period_end: date | None
    payment: PaymentBehaviourSummary
    adverse_events: Sequence[AdverseEventFact] = ()


@dataclass(frozen=True)
class Outcome:
    pd: float
    grade: int
    risk_class: str
    logit: float
    anchor_pd: float
    defaulted: bool
    # Before calibration (the statistical score) and the payment and adverse-event points on top.
    score_logit: float
    overlay: float
    calibration_version: int
    reasons: tuple[Reason, ...]  # every non-zero term, largest absolute contribution first
    components: Mapping[str, float] = field(default_factory=dict)


def grade_for(pd: float, *, defaulted: bool = False) -> int:
    if defaulted:
        return DEFAULT_GRADE
    for grade, upper in enumerate(GRADE_UPPER_BOUNDS, start=1):
        if pd < upper:
            return grade
    return DEFAULT_GRADE


def risk_class_for(grade: int) -> str:
    return next(name for highest, name in RISK_CLASSES if grade <= highest)


def interpolate(points: Sequence[tuple[float, float]], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def anchor_logit(*, average_company_logit: float, model_base_rate: float, portfolio_base_rate: float) -> float:
    """The financial model's average company, at the portfolio's base rate (prior shift)."""
    return average_company_logit + logit(portfolio_base_rate) - logit(model_base_rate)


def financial_reasons(financial: FinancialAssessment) -> list[Reason]:
    by_ratio = financial.by_ratio()
    values = {c.code: c.value for c in financial.contributions if c.kind == "ratio"}
    descriptions = {c.code: c.description for c in financial.contributions if c.kind == "ratio"}
    reasons = []
    for code, label, ratio_codes in FINANCIAL_THEMES:
        total = math.fsum(by_ratio.get(r, 0.0) for r in ratio_codes)
        if abs(total) < 1e-9:
            continue
        # Name the ratio that pushes hardest in the theme's direction, with the buyer's value.
        lead = max(ratio_codes, key=lambda r: by_ratio.get(r, 0.0) * (1 if total > 0 else -1))
        direction = "weakens" if total > 0 else "supports"
        value = values.get(lead)
        shown = f"{value:.3f}" if value is not None else "not available"
        reasons.append(Reason(code, f"{label} {direction} the score ({descriptions[lead]} = {shown}, {lead})", total))
    return reasons


def payment_reasons(payment: PaymentBehaviourSummary) -> list[Reason]:
    reasons = []
    if payment.payment_index is not None:
        adjustment = interpolate(PAYMENT_INDEX_ADJUSTMENTS, payment.payment_index)
        days = payment.average_days_beyond_terms
        reasons.append(
            Reason(
                "PAYMENT_INDEX",
                f"Payment index {payment.payment_index:g} (80 = on terms): pays on average {days:g} days {'beyond' if (days or 0) > 0 else 'within'} terms",
                adjustment,
            )
        )
    for threshold, adjustment in CURRENT_DPD_ADJUSTMENTS:
        if payment.current_days_past_due >= threshold:
            in_default = " (in default)" if threshold >= DEFAULT_DAYS_PAST_DUE else ""
            reasons.append(Reason("PAYMENT_PAST_DUE", f"An open invoice is {payment.current_days_past_due} days past due{in_default}", adjustment))
            break
    for threshold, adjustment in WORST_DPD_ADJUSTMENTS:
        if payment.worst_days_past_due_12m >= threshold:
            reasons.append(Reason("PAYMENT_WORST_DPD", f"An invoice went {payment.worst_days_past_due_12m} days past due in the last 12 months", adjustment))
            break
    if payment.open_amount > 0 and payment.overdue_amount / payment.open_amount >= OVERDUE_SHARE_THRESHOLD:
        share = float(payment.overdue_amount / payment.open_amount)
        reasons.append(Reason("PAYMENT_OVERDUE", f"{share:.0%} of the open amount ({payment.overdue_amount}) is overdue", OVERDUE_SHARE_ADJUSTMENT))
    trend = payment.payment_index_trend_90d
    if trend is not None and trend <= -TREND_THRESHOLD:
        adjustment = min(TREND_WORSENING_ADJUSTMENT + TREND_POINT_ADJUSTMENT * (abs(trend) - TREND_THRESHOLD), TREND_MAX_ADJUSTMENT)
        reasons.append(Reason("PAYMENT_TREND", f"Payment index fell {abs(trend):g} points over the last 90 days", adjustment))
    broken = payment.broken_promises_12m
    if broken > 0:
        adjustment = min(BROKEN_PROMISE_FIRST_ADJUSTMENT + BROKEN_PROMISE_FURTHER_ADJUSTMENT * (broken - 1), BROKEN_PROMISE_MAX_ADJUSTMENT)
        noun = "promise to pay" if broken == 1 else "promises to pay"
        reasons.append(Reason("PAYMENT_PROMISE_BROKEN", f"{broken} {noun} broken in the last 12 months", adjustment))
    return reasons


def age_in_years(founded_on: date, as_of: date) -> float:
    return (as_of - founded_on).days / 365.25


def profile_reasons(inputs: AssessmentInputs, tables: RiskTables) -> list[Reason]:
    reasons = []
    if inputs.founded_on is not None:
        age = age_in_years(inputs.founded_on, inputs.as_of)
        young = next(((a, m) for bound, a, m in AGE_ADJUSTMENTS if age < bound), None)
        mature = next(((a, m) for bound, a, m in MATURE_AGE_ADJUSTMENTS if age >= bound), None)
        age_adjustment = young or mature
        if age_adjustment is not None:
            adjustment, message = age_adjustment
            reasons.append(Reason("PROFILE_AGE", f"Company {message} ({inputs.founded_on.isoformat()})", adjustment))
    legal_form = tables.legal_form.lookup(inputs.legal_form)
    if legal_form is not None and legal_form[1].adjustment:
        reasons.append(Reason("PROFILE_LEGAL_FORM", f"Legal form: {legal_form[1].name}", legal_form[1].adjustment))
    return reasons


def adverse_event_reasons(events: Iterable[AdverseEventFact], as_of: date) -> tuple[list[Reason], bool]:
    """Reasons per kind of adverse event, and whether an open insolvency filing means default."""
    reasons = []
    defaulted = False
    for kind, (years, open_weight, resolved_weight) in ADVERSE_EVENT_WEIGHTS.items():
        relevant = [e for e in events if e.kind == kind and e.occurred_on <= as_of and age_in_years(e.occurred_on, as_of) < years]
        if not relevant:
            continue
        unresolved = [e for e in relevant if e.resolved_on is None or e.resolved_on > as_of]
        total = len(unresolved) * open_weight + (len(relevant) - len(unresolved)) * resolved_weight
        if kind == "insolvency_filing" and unresolved:
            defaulted = True
        else:
            total = min(total, ADVERSE_EVENT_CAP)
        latest = max(e.occurred_on for e in relevant).isoformat()
        label = kind.replace("_", " ")
        reasons.append(
            Reason(
                f"ADVERSE_{kind.upper()}",
                f"{len(relevant)} {label}{'s' if len(relevant) > 1 else ''} in the last {years} years, {len(unresolved)} unresolved (latest {latest})",
                total,
            )
        )
    return reasons, defaulted


def industry_reason(industry: str | None, tables: RiskTables) -> list[Reason]:
    for code in (industry, nace_division(industry), nace_section(industry)):
        found = tables.industry.lookup(code) if code else None
        if found is not None and found[0] != "*":
            row = found[1]
            return [Reason("INDUSTRY_RISK", f"Industry risk of {row.name} (NACE {code})", row.adjustment)] if row.adjustment else []
    return []


def country_reason(country: str, tables: RiskTables) -> list[Reason]:
    found = tables.country.lookup(country)
    if found is None or not found[1].adjustment:
        return []
    key, row = found
    name = row.name if key != "*" else f"{country}: {row.name.lower()}"
    return [Reason("COUNTRY_RISK", f"Country risk of {name}", row.adjustment)]


def assess(
    inputs: AssessmentInputs, *, tables: RiskTables, anchor: float, portfolio_base_rate: float, stale_after_days: int, calibration: Calibration
) -> Outcome:
    score: list[Reason] = []
    if inputs.financial is None:
        # Nothing known about financial strength: under the calibration in force the buyer lands
        # at the portfolio's base rate (before its profile, industry and country).
        average = calibration.pivot - calibration.intercept / calibration.slope
        score.append(Reason("FINANCIAL_DATA_MISSING", "No financial statements: financial strength is taken as the portfolio average", average - anchor))
    else:
        score.extend(financial_reasons(inputs.financial))
        if inputs.statement_period_end is not None and (inputs.as_of - inputs.statement_period_end).days > stale_after_days:
            score.append(
                Reason(
                    "FINANCIAL_DATA_STALE", f"Latest statement is for the period ending {inputs.statement_period_end.isoformat()}", STALE_STATEMENT_ADJUSTMENT
                )
            )
    profile = profile_reasons(inputs, tables)
    industry = industry_reason(inputs.industry, tables)
    country = country_reason(inputs.country, tables)
    score += profile + industry + country
    score_logit = anchor + math.fsum(r.contribution for r in score)
    # The score's reasons are shown in calibrated points, so that every reason's contribution and
    # the calibrated anchor add up to the logit of the PD.
    score = [Reason(r.code, r.message, calibration.slope * r.contribution) for r in score]
    payment = payment_reasons(inputs.payment)
    adverse, insolvent = adverse_event_reasons(inputs.adverse_events, inputs.as_of)
    overlay = math.fsum(r.contribution for r in payment + adverse)
    total = calibration.apply(score_logit) + overlay
    defaulted = insolvent or inputs.payment.current_days_past_due >= DEFAULT_DAYS_PAST_DUE
    pd = DEFAULTED_PD if defaulted else sigmoid(total)
    grade = grade_for(pd, defaulted=defaulted)
    reasons = score + payment + adverse
    profile_codes = {r.code for r in profile}
    components = {
        "financial": math.fsum(r.contribution for r in score if r.code.startswith("FIN")),
        "payment_behaviour": math.fsum(r.contribution for r in payment),
        "profile": math.fsum(r.contribution for r in score if r.code in profile_codes) + math.fsum(r.contribution for r in adverse),
        "industry": calibration.slope * math.fsum(r.contribution for r in industry),
        "country": calibration.slope * math.fsum(r.contribution for r in country),
    }
    ranked = tuple(sorted((r for r in reasons if abs(r.contribution) > 1e-9), key=lambda r: -abs(r.contribution)))
    return Outcome(
        pd=pd,
        grade=grade,
        risk_class=risk_class_for(grade),
        logit=total,
        anchor_pd=sigmoid(calibration.apply(anchor)),
        defaulted=defaulted,
        reasons=ranked,
        components=components,
        score_logit=score_logit,
        overlay=overlay,
        calibration_version=calibration.version,
    )


def percentile_rank(*, below: int, equal: int, count: int) -> float | None:
    """Mid-rank percentile (0-100) of a value among ``count`` values (itself included)."""
    if count == 0:
        return None
    return round(100.0 * (below + 0.5 * equal) / count, 1)
