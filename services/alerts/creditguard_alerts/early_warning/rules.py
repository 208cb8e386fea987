"""Pure early-warning calculations: severities, thresholds, deadlines and shares."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from creditguard_alerts.models.severity import Severity, severity_rank
from creditguard_shared.events.contracts import RiskClass, normalise_risk_class
from creditguard_shared.nace import NACE_CODE, nace_division, nace_section


class RuleType(StrEnum):
    PAYMENT_DELAY = "payment_delay"
    LIMIT_UTILISATION = "limit_utilisation"
    LIMIT_BREACH = "limit_breach"
    SCORE_DOWNGRADE = "score_downgrade"
    RISK_CLASS_WORSENED = "risk_class_worsened"
    REVIEW_OVERDUE = "review_overdue"
    ACCOUNT_ON_HOLD = "account_on_hold"
    ACCOUNT_BLOCKED = "account_blocked"
    CONCENTRATION_BUYER = "concentration_buyer"
    CONCENTRATION_COUNTRY = "concentration_country"
    CONCENTRATION_INDUSTRY = "concentration_industry"
    INSURANCE_REPORT_DEADLINE = "insurance_report_deadline"
    INSURANCE_CLAIM_DEADLINE = "insurance_claim_deadline"
    WEBHOOK_FAILING = "webhook_failing"


INVOICE_RULES = (RuleType.PAYMENT_DELAY, RuleType.INSURANCE_REPORT_DEADLINE, RuleType.INSURANCE_CLAIM_DEADLINE)

DEFAULT_PAYMENT_DELAY_LADDER = {"1": "info", "15": "low", "30": "medium", "60": "high", "90": "critical"}
DEFAULT_RISK_CLASS_ORDER = [risk_class.value for risk_class in RiskClass]

# Installed when the rules table is empty (first start); edited or disabled through the API afterwards.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "payment-delay",
        "name": "Invoice past due",
        "rule_type": RuleType.PAYMENT_DELAY,
        "severity": "info",
        "cooldown_seconds": 0,
        "params": {"severity_by_days_past_due": DEFAULT_PAYMENT_DELAY_LADDER},
    },
    {
        "id": "limit-utilisation-80",
        "name": "Limit utilisation at or above 80%",
        "rule_type": RuleType.LIMIT_UTILISATION,
        "severity": "medium",
        "cooldown_seconds": 86400,
        "params": {"threshold": 0.8},
    },
    {
        "id": "limit-breach",
        "name": "Exposure above the credit limit",
        "rule_type": RuleType.LIMIT_BREACH,
        "severity": "high",
        "cooldown_seconds": 3600,
        "params": {},
    },
    {
        "id": "score-downgrade-2",
        "name": "Downgrade by two grades or more",
        "rule_type": RuleType.SCORE_DOWNGRADE,
        "severity": "medium",
        "cooldown_seconds": 0,
        "params": {"grades": 2},
    },
    {
        "id": "risk-class-worsened",
        "name": "Moved into a worse risk class",
        "rule_type": RuleType.RISK_CLASS_WORSENED,
        "severity": "high",
        "cooldown_seconds": 0,
        "params": {"order": DEFAULT_RISK_CLASS_ORDER},
    },
    {
        "id": "review-overdue",
        "name": "Credit review overdue",
        "rule_type": RuleType.REVIEW_OVERDUE,
        "severity": "low",
        "cooldown_seconds": 0,
        "params": {"grace_days": 0},
    },
    {"id": "account-on-hold", "name": "Account put on hold", "rule_type": RuleType.ACCOUNT_ON_HOLD, "severity": "high", "cooldown_seconds": 0, "params": {}},
    {"id": "account-blocked", "name": "Account blocked", "rule_type": RuleType.ACCOUNT_BLOCKED, "severity": "critical", "cooldown_seconds": 0, "params": {}},
    {
        "id": "concentration-buyer",
        "name": "One buyer above 10% of exposure",
        "rule_type": RuleType.CONCENTRATION_BUYER,
        "severity": "medium",
        "cooldown_seconds": 86400,
        "params": {"max_share": 0.10, "min_buyers": 5},
    },
    {
        "id": "concentration-country",
        "name": "One country above 40% of exposure",
        "rule_type": RuleType.CONCENTRATION_COUNTRY,
        "severity": "medium",
        "cooldown_seconds": 86400,
        "params": {"max_share": 0.40, "min_buyers": 5},
    },
    {
        "id": "concentration-industry",
        "name": "One industry above 30% of exposure",
        "rule_type": RuleType.CONCENTRATION_INDUSTRY,
        "severity": "medium",
        "cooldown_seconds": 86400,
        "params": {"max_share": 0.30, "min_buyers": 5, "industry_level": "division"},
    },
    {
        "id": "insurance-report-deadline",
        "name": "Report the overdue invoice to the credit insurer",
        "rule_type": RuleType.INSURANCE_REPORT_DEADLINE,
        "severity": "high",
        "cooldown_seconds": 0,
        "params": {"days_before": 7},
    },
    {
        "id": "insurance-claim-deadline",
        "name": "File the credit-insurance claim",
        "rule_type": RuleType.INSURANCE_CLAIM_DEADLINE,
        "severity": "high",
        "cooldown_seconds": 0,
        "params": {"days_before": 14},
    },
    {
        "id": "webhook-failing",
        "name": "Webhook subscription disabled after failing",
        "rule_type": RuleType.WEBHOOK_FAILING,
        "severity": "high",
        "cooldown_seconds": 0,
        "params": {},
    },
)


def days_past_due(*, due_on: date, today: date) -> int:
    return max((today - due_on).days, 0)


def awaiting_settlements(*, due_on: date, recorded_at: datetime | None, now: datetime, backposted_after_days: int, settle_hours: float) -> bool:
    """An invoice that arrived more than ``backposted_after_days`` after its due date is history
    being loaded, and its payments often come in a later file: until ``settle_hours`` after its
    arrival nothing is concluded from it being open."""
    if recorded_at is None:
        return False
    return (recorded_at.date() - due_on).days > backposted_after_days and now < recorded_at + timedelta(hours=settle_hours)


def settled_reason(*, due_on: date, settled_on: date | None) -> str:
    """Why an invoice's alerts and case close, judged by the date it was paid (which may be long
    before the payment arrived), not by when the news came."""
    if settled_on is None:
        return "invoice paid"
    late = (settled_on - due_on).days
    if late <= 0:
        return f"invoice paid on time ({settled_on.isoformat()})"
    return f"invoice paid {late} days late ({settled_on.isoformat()})"


def payment_delay_severity(ladder: dict[str, str], dpd: int) -> tuple[int, str] | None:
    """The highest threshold reached and its severity, or None when not yet past the first."""
    reached = [(int(days), severity) for days, severity in ladder.items() if dpd >= int(days)]
    return max(reached) if reached else None


@dataclass(frozen=True)
class DeadlineState:
    deadline: date
    missed: bool


def insurer_deadline(*, due_on: date, within_days: int, days_before: int, today: date) -> DeadlineState | None:
    """Insurer deadlines count from the invoice's due date; None until ``days_before`` the deadline."""
    deadline = due_on + timedelta(days=within_days)
    if today < deadline - timedelta(days=days_before):
        return None
    return DeadlineState(deadline=deadline, missed=today > deadline)


def is_downgrade(*, old_grade: int | None, new_grade: int, grades: int) -> bool:
    """Grades count up from the best (1); a downgrade is a higher number."""
    return old_grade is not None and new_grade - old_grade >= grades


def risk_class_move(order: list[str], old: str | None, new: str) -> int:
    """Positive when ``new`` is a worse class than ``old``, negative when better, 0 when unknown or equal.
    Names are compared in the events' spelling (a rule stored with ``very high`` still matches)."""
    order = [normalise_risk_class(name) for name in order]
    old, new = normalise_risk_class(old), normalise_risk_class(new)
    if old is None or old not in order or new not in order:
        return 0
    return order.index(new) - order.index(old)


def _at_least(severity: str, floor: str) -> str:
    return severity if severity_rank(severity) >= severity_rank(floor) else floor


# Severity bands: the rule's own severity is the least an alert of it gets; a condition this far
# gone gets at least the band's. An open alert follows its condition from band to band.
UTILISATION_BANDS: tuple[tuple[float, Severity], ...] = ((1.5, Severity.CRITICAL), (1.0, Severity.HIGH))
DOWNGRADE_BANDS: tuple[tuple[int, Severity], ...] = ((6, Severity.CRITICAL), (4, Severity.HIGH))


def utilisation_severity(*, utilisation: float, base: str) -> str:
    """At or above the limit at least high, at 150% of it critical."""
    for at_least_used, floor in UTILISATION_BANDS:
        if utilisation >= at_least_used:
            return _at_least(base, floor)
    return base


def downgrade_severity(*, old_grade: int, new_grade: int, base: str) -> str:
    """Four grades or more at least high, six or more (1 to 7, or 1 to 10) critical."""
    for at_least_grades, floor in DOWNGRADE_BANDS:
        if new_grade - old_grade >= at_least_grades:
            return _at_least(base, floor)
    return base


def over_limit(*, exposure: Decimal, limit: Decimal | None) -> bool:
    """Exposure above the limit, by amounts: utilisation is undefined for a zero limit, yet any
    exposure breaches it. Without a limit there is nothing to breach."""
    return limit is not None and exposure > limit


class IndustryLevel(StrEnum):
    SECTION = "section"
    DIVISION = "division"


def industry_group(industry: str, *, level: str) -> str:
    """The concentration group of an industry code: NACE codes by their section (``C``) or
    division (``28``; ``28.1`` and ``28.92`` belong to it). A section letter is its own group at
    either level; a code outside NACE (a house classification) is taken as it is."""
    code = industry.strip().upper()
    if not NACE_CODE.match(code):
        return industry
    grouped = nace_section(code) if level == IndustryLevel.SECTION else nace_division(code) or code
    return grouped or industry


def review_overdue(*, review_due_on: date | None, today: date, grace_days: int) -> bool:
    return review_due_on is not None and today > review_due_on + timedelta(days=grace_days)


@dataclass(frozen=True)
class Exposure:
    buyer_id: str
    country: str | None
    industry: str | None
    amount: Decimal


def shares(exposures: Iterable[Exposure], *, key: str) -> dict[str, float]:
    """Share of total exposure per buyer, country or industry (``key``); unknown countries or industries are left out."""
    rows = list(exposures)
    total = sum((e.amount for e in rows), Decimal("0"))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        group = getattr(row, key)
        if group is not None:
            sums[group] += row.amount
    return group_shares(sums, total=total)


def group_shares(sums: dict[str, Decimal], *, total: Decimal) -> dict[str, float]:
    """Each group's share of ``total``."""
    if total <= 0:
        return {}
    return {group: float(amount / total) for group, amount in sums.items()}


def smallest_amount_above(share: float, *, total: Decimal) -> Decimal:
    """An amount no group above ``share`` of ``total`` falls below (with a margin for float rounding);
    the exact test is ``group_shares(...)[group] > share``."""
    return (total * Decimal(share) * Decimal("0.999")).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
