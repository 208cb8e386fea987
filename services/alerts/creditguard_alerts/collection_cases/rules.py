"""Pure collection rules: strategy levels, segments and escalation targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from creditguard_shared.events.contracts import RiskClass, normalise_risk_class


class Level(StrEnum):
    FRIENDLY_REMINDER = "friendly_reminder"
    FIRM_REMINDER = "firm_reminder"
    PHONE_CALL = "phone_call"
    STOP_SUPPLIES = "stop_supplies"
    INSURER_NOTIFICATION = "insurer_notification"
    LEGAL_ACTION = "legal_action"
    CLAIM = "claim"


NO_LEVEL = "none"

DEFAULT_STRATEGIES: tuple[dict[str, Any], ...] = (
    {
        "id": "high-risk",
        "name": "High-risk buyers: fast escalation",
        "priority": 10,
        "risk_classes": [RiskClass.HIGH.value, RiskClass.VERY_HIGH.value],
        "industries": None,
        "min_amount": None,
        "max_amount": None,
        "levels": [
            {"level": "friendly_reminder", "days_past_due": 1},
            {"level": "phone_call", "days_past_due": 7},
            {"level": "stop_supplies", "days_past_due": 15},
            {"level": "insurer_notification", "days_past_due": 30},
            {"level": "legal_action", "days_past_due": 60},
        ],
    },
    {
        "id": "large-invoices",
        "name": "Large invoices: call early",
        "priority": 20,
        "risk_classes": None,
        "industries": None,
        "min_amount": "100000.00",
        "max_amount": None,
        "levels": [
            {"level": "friendly_reminder", "days_past_due": 1},
            {"level": "phone_call", "days_past_due": 10},
            {"level": "firm_reminder", "days_past_due": 20},
            {"level": "stop_supplies", "days_past_due": 30},
            {"level": "insurer_notification", "days_past_due": 45},
            {"level": "legal_action", "days_past_due": 90},
        ],
    },
    {
        "id": "standard",
        "name": "Standard",
        "priority": 100,
        "risk_classes": None,
        "industries": None,
        "min_amount": None,
        "max_amount": None,
        "levels": [
            {"level": "friendly_reminder", "days_past_due": 1},
            {"level": "firm_reminder", "days_past_due": 15},
            {"level": "phone_call", "days_past_due": 30},
            {"level": "stop_supplies", "days_past_due": 45},
            {"level": "insurer_notification", "days_past_due": 60},
            {"level": "legal_action", "days_past_due": 90},
        ],
    },
)


@dataclass(frozen=True)
class Segment:
    risk_class: str | None
    industry: str | None
    amount: Decimal


def in_segment(
    *, segment: Segment, risk_classes: Sequence[str] | None, industries: Sequence[str] | None, min_amount: Decimal | None, max_amount: Decimal | None
) -> bool:
    return (
        # Strategies and profiles stored before the class names were one enumeration may still say ``very high``.
        (not risk_classes or normalise_risk_class(segment.risk_class) in {normalise_risk_class(c) for c in risk_classes})
        and (not industries or segment.industry in industries)
        and (min_amount is None or segment.amount >= min_amount)
        and (max_amount is None or segment.amount <= max_amount)
    )


def target_level_index(levels: Sequence[dict[str, Any]], days_past_due: int) -> int:
    """Index of the last level whose trigger has been reached, -1 before the first."""
    reached = [i for i, level in enumerate(levels) if days_past_due >= level["days_past_due"]]
    return max(reached, default=-1)


def escalation_paused(*, promised_until: date | None, disputed: bool, today: date) -> bool:
    return disputed or (promised_until is not None and today <= promised_until)


def promise_broken(*, promised_until: date | None, today: date) -> bool:
    return promised_until is not None and today > promised_until
