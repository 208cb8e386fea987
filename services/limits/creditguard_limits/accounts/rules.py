from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.policy.rules import CreditPolicy, capacity_limit, ramp_up_fraction

LIMIT_BELOW_EXPOSURE = "limit_below_exposure"
COVER_REDUCED = "cover_reduced"


@dataclass(frozen=True)
class Recommendation:
    currency: str
    grade: int | None
    capacity_limit: Decimal
    ramp_up_fraction: Decimal
    amount: Decimal
    max_single_order: Decimal
    max_terms_days: int
    conditions: list[dict]


def recommend(
    policy: CreditPolicy, *, grade: int | None, equity: Decimal | None, sales: Decimal | None, statement_currency: str | None,
    invoices_paid_on_time: int, rates: RateTable, relationship_days: int | None = None,
) -> Recommendation:
    """The grade's policy applied to the buyer's financial capacity, times the ramp-up fraction a
    new relationship has earned with invoices paid on time (an established one, older than the
    ramp-up's ``established_after_days``, gets it all). In the policy's matrix currency."""
    grade_policy = policy.for_grade(grade)
    currency = policy.matrix_currency

    def in_matrix_currency(amount: Decimal | None) -> Decimal | None:
        if amount is None or statement_currency is None:
            return None
        return rates.convert(amount, from_currency=statement_currency, to_currency=currency)

    capacity = capacity_limit(grade_policy, equity=in_matrix_currency(equity), sales=in_matrix_currency(sales))
    fraction = ramp_up_fraction(policy.ramp_up, invoices_paid_on_time=invoices_paid_on_time, relationship_days=relationship_days)
    return Recommendation(
        currency=currency, grade=grade, capacity_limit=capacity, ramp_up_fraction=fraction,
        amount=to_cents(capacity * fraction), max_single_order=grade_policy.max_single_order,
        max_terms_days=grade_policy.max_terms_days, conditions=[c.model_dump(mode="json", exclude_none=True) for c in grade_policy.conditions],
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
