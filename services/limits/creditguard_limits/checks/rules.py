"""The credit check itself: pure, ordered, each check configured in the policy file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from creditguard_limits.economics.rules import OrderEconomics, Rescue, find_rescue, order_economics, smallest_prepayment
from creditguard_limits.fx.rules import to_cents
from creditguard_limits.policy.rules import CreditPolicy, Decision
from creditguard_limits.position.rules import ZERO, Position

SEVERITY: dict[str, int] = {"approved": 0, "approved_with_conditions": 1, "referred": 2, "rejected": 3}
# Reasons of the limit check a positive expected contribution may outweigh (a group limit may not).
LIMIT_CODES = frozenset({"limit_exceeded", "no_limit"})
OVERDUE_BEYOND_USUAL = "overdue_beyond_usual"
# Scoring's PD of a buyer in default (insolvent, or 90+ days past due): its limit is never
# outweighed by a contribution, whatever its grade's row says. A weak but paying grade-10 buyer's is.
IN_DEFAULT_PD = Decimal(1)


@dataclass(frozen=True)
class CheckRequest:
    """The order in the position's currency. ``additional`` is what it adds to the exposure: the
    whole amount, or the difference when an already approved order changes."""

    amount: Decimal
    additional: Decimal
    payment_terms_days: int
    today: date
    product_line: str | None = None


@dataclass(frozen=True)
class AccountFacts:
    status: str
    grade: int | None
    risk_class: str | None
    review_on: date | None
    payment_terms_days: int | None
    # No limit and no assessment: nobody has looked at this buyer yet.
    unknown: bool
    # Scoring's 12-month PD (None: not assessed, the policy's unassessed_pd applies) and NACE code.
    pd: Decimal | None = None
    industry: str | None = None
    expected_days_late: Decimal = Decimal(0)
    # The recommended limit before the ramp-up, in the position's currency: the most exposure the
    # risk appetite accepts for this buyer. None without an assessment.
    economic_capacity: Decimal | None = None
    limit_source: str | None = None


@dataclass
class Outcome:
    decision: Decision = "approved"
    reasons: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    # Each reason's action, so a reason can be outweighed later (``waive``).
    actions: list[tuple[str, Decision]] = field(default_factory=list)
    economics: OrderEconomics | None = None
    # The limit the decision was made against: the buyer's ("limit") or, when a positive expected
    # contribution outweighed it, the economic capacity.
    limit_basis: str = "limit"
    decision_limit: Decimal | None = None
    # The part of what the order adds to the exposure that a prepayment condition asks for up front
    # (position currency): it is not credit, so it is neither reserved nor counted as exposure.
    prepaid: Decimal = ZERO

    def add(self, action: Decision, code: str, message: str, conditions: list[dict[str, Any]] | None = None) -> None:
        if SEVERITY[action] > SEVERITY[self.decision]:
            self.decision = action
        self.reasons.append({"code": code, "message": message})
        self.actions.append((code, action))
        if action == "approved_with_conditions":
            self.conditions.extend(conditions or [{"code": code, "message": message}])

    def blocking(self) -> list[str]:
        return [code for code, action in self.actions if SEVERITY[action] >= SEVERITY["referred"]]

    def waive(self, codes: frozenset[str]) -> None:
        """The decision without these reasons' actions (the reasons stay listed)."""
        self.actions = [(code, action) for code, action in self.actions if code not in codes]
        self.decision = max((action for _, action in self.actions), key=SEVERITY.__getitem__, default="approved")


@dataclass(frozen=True)
class Rates:
    """Policy amounts (matrix currency) converted into the position's currency."""

    to_position: Callable[[Decimal], Decimal]


def evaluate(policy: CreditPolicy, *, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> Outcome:
    outcome = Outcome(decision_limit=position.limit)
    for name in policy.check_order:
        CHECKS[name](outcome, policy, request, account, position, rates)
    _contribution(outcome, policy, request, account, position)
    if outcome.decision != "approved_with_conditions":
        outcome.conditions = []
        outcome.prepaid = ZERO
    return outcome


def price_order(policy: CreditPolicy, *, request: CheckRequest, account: AccountFacts, position: Position) -> OrderEconomics:
    """The order's expected contribution as requested: what it adds to the exposure, at its terms."""
    economics = policy.economics
    added = max(request.additional, ZERO)
    before = position.exposure.total
    cover = position.cover
    return order_economics(
        economics,
        currency=position.currency,
        amount=added,
        margin_rate=economics.gross_margin.rate(industry=account.industry, product_line=request.product_line),
        pd_12m=_pd(policy, account),
        terms_days=request.payment_terms_days,
        expected_days_late=account.expected_days_late,
        insured=position.insured_part(before + added) - position.insured_part(before),
        indemnity_share=cover.indemnity_percentage / 100 if cover is not None else economics.insurance.indemnity_share,
    )


def _pd(policy: CreditPolicy, account: AccountFacts) -> Decimal:
    return account.pd if account.pd is not None else policy.unassessed_pd


def _contribution(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position) -> None:
    """Decisions that know money. Hard stops (any blocking reason but the buyer's own limit) stay as
    they are, with the figures. A limit is outweighed when the order earns (EC > 0) and the
    exposure stays within the economic capacity. Lateness beyond the buyer's habit is outweighed
    when the order earns as far as the policy's ``beyond_usual_on_contribution`` allows (within the
    insurance cover, where the insurer carries all but its retention, or always). An order
    expected to lose gets the first condition that makes it earn, or is referred with the figures."""
    order = outcome.economics = price_order(policy, request=request, account=account, position=position)
    rules = policy.economics.decisions
    blocking = outcome.blocking()
    if order.amount <= 0:
        return
    after = position.exposure.with_order(order.amount)
    late_waiver = _late_waiver(policy, blocking=blocking, order=order, position=position, exposure_after=after, terms_days=request.payment_terms_days)
    if any(code not in LIMIT_CODES and not (late_waiver and code == OVERDUE_BEYOND_USUAL) for code in blocking):
        return
    over_limit = any(code in LIMIT_CODES for code in blocking)
    capacity = account.economic_capacity
    ceiling = None if capacity is None else to_cents(capacity * (1 + rules.capacity_tolerance))
    if over_limit:
        eligible = (
            rules.approve_within_economic_capacity
            and ceiling is not None
            and account.grade is not None
            and _pd(policy, account) < IN_DEFAULT_PD
            and (rules.include_manual_limits or account.limit_source != "manual")
        )
        if not (eligible and ceiling is not None and after <= ceiling):
            if (
                eligible
                and ceiling is not None
                and capacity is not None
                and _prepay_above_capacity(outcome, policy, order=order, position=position, ceiling=ceiling, capacity=capacity)
            ):
                return
            if capacity is not None and capacity <= 0 and account.grade is not None:
                # Nothing earns within the risk appetite (a zero recommendation): a credit manager
                # weighs the order with its figures rather than the zero limit rejecting it.
                outcome.waive(LIMIT_CODES)
                outcome.add(
                    "referred",
                    "no_economic_capacity",
                    f"Expected contribution {_figures(order)}; the buyer's exposure earns nothing within the risk appetite (economic capacity 0).",
                )
            return
    figures = _figures(order)
    if order.expected_contribution > 0:
        if late_waiver == "overdue_within_cover":
            outcome.waive(frozenset({OVERDUE_BEYOND_USUAL}))
            outcome.add(
                "approved",
                late_waiver,
                f"Expected contribution {figures}; exposure after the order {to_cents(after)} {position.currency} stays within the "
                f"cover: approved although the buyer pays later than usual.",
            )
        elif late_waiver == "overdue_on_contribution":
            outcome.waive(frozenset({OVERDUE_BEYOND_USUAL}))
            outcome.add(
                "approved",
                late_waiver,
                f"Expected contribution {figures}, with the PD that reads the buyer's lateness: approved although the buyer pays later than usual.",
            )
        if over_limit:
            assert capacity is not None  # an outweighed limit had a ceiling
            _outweigh_limit(outcome, capacity=ceiling, currency=position.currency)
            outcome.add(
                "approved",
                "approved_on_contribution",
                f"Expected contribution {figures}; exposure after the order {to_cents(after)} stays within the economic capacity "
                f"{to_cents(capacity)} {position.currency} and its tolerance ({ceiling}): approved above the limit.",
            )
        return
    if rules.negative_contribution == "none":
        return
    rescue = find_rescue(
        policy.economics,
        order=order,
        has_cover=position.cover is not None,
        insured_for=lambda credit: position.insured_part(position.exposure.with_order(credit)) - position.insured_part(position.exposure.total),
    )
    if rescue is not None and rescue.code != "credit_insurance":
        if over_limit:
            _outweigh_limit(outcome, capacity=ceiling, currency=position.currency)
        outcome.add(
            "approved_with_conditions", "negative_contribution", f"Expected contribution {figures}; {_rescue_text(rescue)}.", [_rescue_condition(rescue, order)]
        )
        outcome.prepaid = order.amount - rescue.economics.credit_amount
        return
    if rescue is not None:
        outcome.add("referred", "contribution_needs_cover", f"Expected contribution {figures}; {_rescue_text(rescue)}.")
        return
    outcome.add(
        rules.negative_contribution,
        "negative_contribution",
        f"Expected contribution {figures}; no shorter terms (down to {rules.min_terms_days} days), prepayment (up to "
        f"{rules.max_prepayment_share * 100:.0f} %) or insurance cover makes it positive.",
    )


def _prepay_above_capacity(
    outcome: Outcome,
    policy: CreditPolicy,
    *,
    order: OrderEconomics,
    position: Position,
    ceiling: Decimal,
    capacity: Decimal,
) -> bool:
    """An order that would take the exposure above the economic capacity (and its tolerance) is not
    lost for the part that fits: the smallest prepayment share that brings the credit part within
    the ceiling, if the order still earns with it and the share is within the policy's maximum.
    Turning the whole order away would forgo its margin to avoid a risk the prepayment removes."""
    room = ceiling - position.exposure.total
    if room <= 0:
        return False
    cover_before = position.insured_part(position.exposure.total)
    rescue = smallest_prepayment(
        policy.economics,
        order=order,
        max_credit=room,
        insured_for=lambda credit: position.insured_part(position.exposure.with_order(credit)) - cover_before,
    )
    if rescue is None:
        return False
    _outweigh_limit(outcome, capacity=ceiling, currency=position.currency)
    outcome.add(
        "approved_with_conditions",
        "prepayment_above_capacity",
        f"Expected contribution {_figures(order)}; the whole order would take the exposure above the economic capacity "
        f"{to_cents(capacity)} {position.currency} and its tolerance ({ceiling}): {_rescue_text(rescue)}.",
        [_rescue_condition(rescue, order)],
    )
    outcome.prepaid = order.amount - rescue.economics.credit_amount
    return True


def _late_waiver(
    policy: CreditPolicy, *, blocking: list[str], order: OrderEconomics, position: Position, exposure_after: Decimal, terms_days: int
) -> str | None:
    """The reason an earning order of a buyer late beyond its habit is approved, if the policy's
    ``beyond_usual_on_contribution`` lets it be."""
    mode = policy.checks.overdue.beyond_usual_on_contribution
    if OVERDUE_BEYOND_USUAL not in blocking or mode == "never" or order.expected_contribution <= 0:
        return None
    if _within_cover(position, exposure_after=exposure_after, terms_days=terms_days):
        return "overdue_within_cover"
    return "overdue_on_contribution" if mode == "always" else None


def _within_cover(position: Position, *, exposure_after: Decimal, terms_days: int) -> bool:
    cover = position.cover
    return cover is not None and exposure_after <= cover.granted and terms_days <= cover.max_credit_period_days


def _outweigh_limit(outcome: Outcome, *, capacity: Decimal | None, currency: str) -> None:
    outcome.waive(LIMIT_CODES)
    outcome.limit_basis, outcome.decision_limit = "economic_capacity", capacity


def _figures(order: OrderEconomics) -> str:
    return (
        f"{order.expected_contribution} {order.currency} (margin {order.gross_margin} - expected loss {order.expected_loss} - "
        f"financing {order.financing_cost} - premium {order.insurance_premium})"
    )


def _rescue_text(rescue: Rescue) -> str:
    earns = f"{rescue.economics.expected_contribution} {rescue.economics.currency}"
    if rescue.code == "shorter_terms":
        return f"payment terms of {rescue.max_terms_days} days make it {earns}"
    if rescue.code == "prepayment":
        return f"a prepayment of {_percentage(rescue)} % makes it {earns}"
    return f"insuring the order (indemnity {rescue.economics.indemnity_share * 100:.0f} %) would make it {earns}; the buyer has no cover"


def _percentage(rescue: Rescue) -> str:
    assert rescue.share is not None  # a prepayment rescue carries its share
    return format((rescue.share * 100).normalize(), "f")


def _rescue_condition(rescue: Rescue, order: OrderEconomics) -> dict[str, Any]:
    contribution = str(rescue.economics.expected_contribution)
    if rescue.code == "shorter_terms":
        return {
            "code": "shorter_terms",
            "message": f"Payment terms of at most {rescue.max_terms_days} days (expected contribution {contribution}).",
            "max_terms_days": rescue.max_terms_days,
            "expected_contribution": contribution,
        }
    percentage = _percentage(rescue)
    return {
        "code": "prepayment",
        "message": f"Prepay {percentage}% of the order (expected contribution {contribution}).",
        "percentage": percentage,
        "amount": str(to_cents(order.amount - rescue.economics.credit_amount)),
        "expected_contribution": contribution,
    }


def _account_status(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.account_status
    if not config.enabled:
        return
    if account.status == "blocked":
        outcome.add(config.blocked, "account_blocked", "The account is blocked.")
    elif account.status == "on_hold":
        outcome.add(config.on_hold, "account_on_hold", "The account is on hold.")


def _limit(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.limit
    if not config.enabled:
        return
    after = position.exposure.with_order(request.additional)
    if position.limit is None:
        allowance = rates.to_position(policy.unknown_buyer.max_first_order) if account.unknown else ZERO
        if after > allowance:
            code, what = ("unknown_buyer", "The buyer is unknown") if account.unknown else ("no_limit", "The buyer has no credit limit")
            outcome.add(policy.unknown_buyer.otherwise, code, f"{what}; exposure after the order would be {to_cents(after)} {position.currency}.")
    elif request.additional > 0 and after > position.limit:
        excess = after - position.limit
        action = config.over_limit
        if config.reject_above_share_of_limit is not None and excess > position.limit * config.reject_above_share_of_limit:
            action = "rejected"
        outcome.add(
            action,
            "limit_exceeded",
            f"Exposure after the order ({to_cents(after)}) exceeds the limit {to_cents(position.limit)} {position.currency} by {to_cents(excess)}.",
            [_prepayment(excess, "Prepay the part above the limit.")],
        )
    if position.group is not None and request.additional > 0:
        group_after = position.group.exposure + request.additional
        if group_after > position.group.limit:
            excess = group_after - position.group.limit
            outcome.add(
                config.over_limit,
                "group_limit_exceeded",
                f"Group {position.group.group_id} exposure after the order would exceed its limit "
                f"{to_cents(position.group.limit)} {position.currency} by {to_cents(excess)}.",
                [_prepayment(excess, "Prepay the part above the group limit.")],
            )


def _overdue(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.overdue
    if not config.enabled:
        return
    exposure = position.exposure
    if exposure.oldest_overdue_days > config.max_days_past_due:
        outcome.add(
            config.action,
            "overdue_days",
            f"The oldest open invoice is {exposure.oldest_overdue_days} days past due (maximum {config.max_days_past_due}).",
            [{"code": "settle_overdue", "message": "Settle the overdue invoices before delivery.", "amount": str(exposure.overdue)}],
        )
    elif config.max_days_beyond_usual is not None and exposure.oldest_overdue_days > (
        account.expected_days_late * config.usual_lateness_factor + config.max_days_beyond_usual
    ):
        allowed = to_cents(account.expected_days_late * config.usual_lateness_factor + config.max_days_beyond_usual)
        outcome.add(
            config.action,
            OVERDUE_BEYOND_USUAL,
            f"The oldest open invoice is {exposure.oldest_overdue_days} days past due; the buyer usually pays "
            f"{account.expected_days_late} days late (allowed: {config.usual_lateness_factor} x that + {config.max_days_beyond_usual} = {allowed}).",
            [{"code": "settle_overdue", "message": "Settle the overdue invoices before delivery.", "amount": str(exposure.overdue)}],
        )
    if config.max_overdue_share_of_limit is not None and position.limit is not None:
        threshold = position.limit * config.max_overdue_share_of_limit
        if exposure.overdue > threshold:
            outcome.add(
                config.action,
                "overdue_amount",
                f"Overdue {exposure.overdue} {position.currency} is above {to_cents(threshold)}.",
                [{"code": "settle_overdue", "message": "Settle the overdue invoices before delivery.", "amount": str(exposure.overdue)}],
            )


def _single_order(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.single_order
    if not config.enabled or account.unknown:
        return
    maximum = rates.to_position(policy.for_grade(account.grade).max_single_order)
    if request.amount > maximum:
        outcome.add(
            config.action,
            "single_order_above_maximum",
            f"The order is above the maximum single order {maximum} {position.currency} for grade {account.grade}.",
            [_prepayment(request.amount - maximum, "Prepay the part above the maximum single order.")],
        )


def _grade(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    if not policy.checks.grade.enabled or account.grade is None:
        return
    grade_policy = policy.for_grade(account.grade)
    if grade_policy.action == "approved":
        return
    conditions = []
    for template in grade_policy.conditions:
        condition = {"code": template.code, "message": template.message}
        if template.percentage is not None:
            condition["percentage"] = str(template.percentage)
            condition["amount"] = str(to_cents(request.amount * template.percentage / 100))
        conditions.append(condition)
    outcome.add(
        grade_policy.action,
        "grade_risk",
        f"Grade {account.grade} ({account.risk_class or 'unclassified'}) requires: {grade_policy.action.replace('_', ' ')}.",
        conditions,
    )


def _review_date(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.review_date
    if config.enabled and account.review_on is not None and account.review_on < request.today:
        outcome.add(config.action, "review_overdue", f"The limit was due for review on {account.review_on.isoformat()}.")


def _terms(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.terms
    if not config.enabled:
        return
    allowed = [policy.for_grade(account.grade).max_terms_days]
    if account.payment_terms_days is not None:
        allowed.append(account.payment_terms_days)
    maximum = min(allowed)
    if request.payment_terms_days > maximum:
        outcome.add(
            config.action,
            "terms_above_maximum",
            f"Requested terms of {request.payment_terms_days} days are above the maximum of {maximum}.",
            [{"code": "shorter_terms", "message": f"Payment terms of at most {maximum} days.", "max_terms_days": maximum}],
        )


def _insurance(outcome: Outcome, policy: CreditPolicy, request: CheckRequest, account: AccountFacts, position: Position, rates: Rates) -> None:
    config = policy.checks.insurance
    if not config.enabled:
        return
    cover = position.cover
    if cover is None:
        if config.no_cover_action != "none":
            outcome.add(config.no_cover_action, "no_insurance_cover", "The buyer has no credit-insurance cover.")
        return
    if cover.uninsured_action == "none":
        return
    before = position.exposure.total
    after = before + max(request.additional, ZERO)
    added_uninsured = (after - position.insured_part(after)) - (before - position.insured_part(before))
    if added_uninsured > 0:
        outcome.add(
            cover.uninsured_action,
            "uninsured_exposure",
            f"{to_cents(added_uninsured)} {position.currency} of the order is above the {cover.insurer} cover of {to_cents(cover.granted)}.",
            [_prepayment(added_uninsured, "Prepay the uninsured part of the order.")],
        )
    if request.payment_terms_days > cover.max_credit_period_days:
        outcome.add(
            cover.uninsured_action,
            "terms_beyond_insured_period",
            f"Terms of {request.payment_terms_days} days exceed the insured maximum credit period of {cover.max_credit_period_days}.",
            [
                {
                    "code": "shorter_terms",
                    "message": f"Payment terms of at most {cover.max_credit_period_days} days.",
                    "max_terms_days": cover.max_credit_period_days,
                }
            ],
        )


def _prepayment(amount: Decimal, message: str) -> dict[str, Any]:
    return {"code": "prepayment", "message": message, "amount": str(to_cents(amount))}


CHECKS = {
    "account_status": _account_status,
    "limit": _limit,
    "overdue": _overdue,
    "single_order": _single_order,
    "grade": _grade,
    "review_date": _review_date,
    "terms": _terms,
    "insurance": _insurance,
}
