from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from creditguard_limits.economics.rules import LimitEconomics, limit_economics
from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.policy.rules import CreditPolicy, capacity_limit, experienced_exposure, ramp_up_fraction

LIMIT_BELOW_EXPOSURE = "limit_below_exposure"
COVER_REDUCED = "cover_reduced"


@dataclass(frozen=True)
class Recommendation:
    currency: str
    grade: int | None
    capacity_limit: Decimal
    # The capacity within the risk appetite (0 when the exposure would not earn), before the
    # ramp-up: the economic capacity a positive-contribution order may use.
    economic_limit: Decimal
    ramp_up_fraction: Decimal
    amount: Decimal
    max_single_order: Decimal
    max_terms_days: int
    conditions: list[dict[str, Any]]
    economics: LimitEconomics


def usual_terms_days(policy: CreditPolicy, *, grade: int | None, limit_source: str | None, payment_terms_days: int | None) -> int:
    """The terms the buyer usually gets: a manual limit's own, else the grade's maximum (what a
    policy limit grants)."""
    if limit_source == "manual" and payment_terms_days is not None:
        return payment_terms_days
    return policy.for_grade(grade).max_terms_days


def recommend(
    policy: CreditPolicy,
    *,
    grade: int | None,
    equity: Decimal | None,
    sales: Decimal | None,
    statement_currency: str | None,
    invoices_paid_on_time: int,
    rates: RateTable,
    relationship_days: int | None = None,
    pd: Decimal | None = None,
    industry: str | None = None,
    terms_days: int | None = None,
    expected_days_late: Decimal = Decimal(0),
    purchases_12m: Decimal = Decimal(0),
) -> Recommendation:
    """The grade's policy applied to the buyer's financial capacity, reduced to what earns within
    the risk appetite (``limit_economics``), times the ramp-up fraction a new relationship has
    earned with invoices paid on time (an established one, older than the ramp-up's
    ``established_after_days``, gets it all). In the policy's matrix currency."""
    grade_policy = policy.for_grade(grade)
    currency = policy.matrix_currency

    def in_matrix_currency(amount: Decimal | None) -> Decimal | None:
        if amount is None or statement_currency is None:
            return None
        return rates.convert(amount, from_currency=statement_currency, to_currency=currency)

    usual_terms = grade_policy.max_terms_days if terms_days is None else terms_days
    experienced = experienced_exposure(policy.payment_experience, purchases_12m=purchases_12m, terms_days=usual_terms, expected_days_late=expected_days_late)
    capacity = capacity_limit(grade_policy, equity=in_matrix_currency(equity), sales=in_matrix_currency(sales), experienced=experienced)
    money = limit_economics(
        policy.economics,
        capacity=capacity,
        margin_rate=policy.economics.gross_margin.rate(industry=industry, product_line=None),
        pd_12m=pd if pd is not None else policy.unassessed_pd,
        terms_days=usual_terms,
        expected_days_late=expected_days_late,
    )
    fraction = ramp_up_fraction(policy.ramp_up, invoices_paid_on_time=invoices_paid_on_time, relationship_days=relationship_days)
    return Recommendation(
        currency=currency,
        grade=grade,
        capacity_limit=capacity,
        economic_limit=money.economic_limit,
        ramp_up_fraction=fraction,
        amount=to_cents(money.economic_limit * fraction),
        max_single_order=grade_policy.max_single_order,
        max_terms_days=grade_policy.max_terms_days,
        conditions=[c.model_dump(mode="json", exclude_none=True) for c in grade_policy.conditions],
        economics=money,
    )


def with_flag(flags_json: str, flag: str, *, present: bool) -> str:
    flags = set(json.loads(flags_json or "[]"))
    if present:
        flags.add(flag)
    else:
        flags.discard(flag)
    return json.dumps(sorted(flags))


def audit_values(entity: object, fields: tuple[str, ...]) -> dict[str, str | None]:
    return {f: None if getattr(entity, f) is None else str(getattr(entity, f)) for f in fields}
