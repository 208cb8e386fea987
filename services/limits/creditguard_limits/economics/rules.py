"""What an order and a limit earn and risk, in money: pure arithmetic on the policy's economics
section. The formulas are documented, figure by figure, in docs/economics.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from creditguard_limits.fx.rules import to_cents
from creditguard_limits.policy.economics import Economics

ZERO = Decimal("0.00")
ONE = Decimal(1)
YEAR = Decimal(365)
RATE = Decimal("0.00000001")


def period_pd(pd_12m: Decimal, days: Decimal) -> Decimal:
    """The probability of default within ``days`` for a 12-month PD: 1 - (1 - PD12)^(days/365)."""
    if pd_12m >= ONE:
        return ONE
    if pd_12m <= 0 or days <= 0:
        return Decimal(0)
    return ONE - ((ONE - pd_12m).ln() * days / YEAR).exp()


@dataclass(frozen=True)
class OrderEconomics:
    """An order's expected contribution, in the position's currency. ``amount``: what the order
    adds to the exposure; ``credit_amount``: the part of it sold on credit (all of it, unless a
    prepayment is assumed). Money figures are rounded to the cent and
    expected_contribution = gross_margin - expected_loss - financing_cost - insurance_premium exactly."""

    currency: str
    amount: Decimal
    credit_amount: Decimal
    margin_rate: Decimal
    gross_margin: Decimal
    pd_12m: Decimal
    terms_days: int
    expected_days_late: Decimal
    exposure_days: Decimal
    pd_over_period: Decimal
    loss_given_default: Decimal
    insured: Decimal
    uninsured: Decimal
    indemnity_share: Decimal
    expected_loss: Decimal
    financing_cost: Decimal
    insurance_premium: Decimal
    expected_contribution: Decimal

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every field, and the check writes this on each order.
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Decimal) else v) for f in fields(self)}


def order_economics(
    economics: Economics,
    *,
    currency: str,
    amount: Decimal,
    credit_amount: Decimal | None = None,
    margin_rate: Decimal,
    pd_12m: Decimal,
    terms_days: int,
    expected_days_late: Decimal,
    insured: Decimal,
    indemnity_share: Decimal,
) -> OrderEconomics:
    """A = credit_amount, D = terms + expected days late, p = 1 - (1 - PD12)^(D/365),
    EL = p x LGD x (U + I x (1 - indemnity)), financing = A x cost of capital x D / 365,
    premium = I x premium rate, EC = amount x margin - EL - financing - premium."""
    credit = amount if credit_amount is None else credit_amount
    insured = min(max(insured, ZERO), credit)
    uninsured = credit - insured
    days = Decimal(terms_days) + expected_days_late
    p = period_pd(pd_12m, days)
    lgd = economics.loss_given_default
    gross_margin = to_cents(amount * margin_rate)
    expected_loss = to_cents(p * lgd * (uninsured + insured * (ONE - indemnity_share)))
    financing = to_cents(credit * economics.cost_of_capital * days / YEAR)
    premium = to_cents(insured * economics.insurance.premium_rate)
    return OrderEconomics(
        currency=currency,
        amount=to_cents(amount),
        credit_amount=to_cents(credit),
        margin_rate=margin_rate,
        gross_margin=gross_margin,
        pd_12m=pd_12m,
        terms_days=terms_days,
        expected_days_late=expected_days_late,
        exposure_days=days,
        pd_over_period=p.quantize(RATE),
        loss_given_default=lgd,
        insured=to_cents(insured),
        uninsured=to_cents(uninsured),
        indemnity_share=indemnity_share,
        expected_loss=expected_loss,
        financing_cost=financing,
        insurance_premium=premium,
        expected_contribution=gross_margin - expected_loss - financing - premium,
    )


def expected_days_late(*, days_late_total: int, invoices_settled: int) -> Decimal:
    """The buyer's average days late over its settled invoices (0 while it has none)."""
    if invoices_settled <= 0:
        return Decimal(0)
    return (Decimal(days_late_total) / invoices_settled).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Rescue:
    """A condition under which a loss-making order earns: ``code`` is ``shorter_terms``
    (``max_terms_days``), ``prepayment`` (``share`` of the order) or ``credit_insurance``."""

    code: str
    economics: OrderEconomics
    max_terms_days: int | None = None
    share: Decimal | None = None


def find_rescue(
    economics: Economics,
    *,
    order: OrderEconomics,
    insured_for: Callable[[Decimal], Decimal],
    has_cover: bool,
) -> Rescue | None:
    """``insured_for(credit)``: the insured part of that much added exposure (cover the exposure
    before the order already uses counts). The first condition, in the policy's order, that makes the order's expected contribution
    positive: the longest shorter terms down to ``min_terms_days``; else the smallest prepayment
    share (a multiple of ``prepayment_step`` up to ``max_prepayment_share``); else, for a buyer
    without cover, insuring the order with the policy's default indemnity. None if nothing does."""
    rules = economics.decisions

    def priced(*, terms_days: int, credit: Decimal, insured: Decimal, indemnity: Decimal) -> OrderEconomics:
        return repriced(economics, order=order, terms_days=terms_days, credit=credit, insured=insured, indemnity_share=indemnity)

    # Expected contribution falls as the terms lengthen: the longest terms that still earn.
    low, high, best = rules.min_terms_days, order.terms_days - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = priced(terms_days=middle, credit=order.credit_amount, insured=order.insured, indemnity=order.indemnity_share)
        if candidate.expected_contribution > 0:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is not None:
        return Rescue(code="shorter_terms", economics=best, max_terms_days=best.terms_days)

    prepaid = smallest_prepayment(economics, order=order, insured_for=insured_for)
    if prepaid is not None:
        return prepaid

    if not has_cover:
        candidate = priced(terms_days=order.terms_days, credit=order.credit_amount, insured=order.credit_amount, indemnity=economics.insurance.indemnity_share)
        if candidate.expected_contribution > 0:
            return Rescue(code="credit_insurance", economics=candidate)
    return None


def repriced(
    economics: Economics,
    *,
    order: OrderEconomics,
    terms_days: int,
    credit: Decimal,
    insured: Decimal,
    indemnity_share: Decimal,
) -> OrderEconomics:
    """The same order (amount, margin, PD) with other terms, credit part or cover."""
    return order_economics(
        economics,
        currency=order.currency,
        amount=order.amount,
        credit_amount=credit,
        margin_rate=order.margin_rate,
        pd_12m=order.pd_12m,
        terms_days=terms_days,
        expected_days_late=order.expected_days_late,
        insured=insured,
        indemnity_share=indemnity_share,
    )


def smallest_prepayment(
    economics: Economics,
    *,
    order: OrderEconomics,
    insured_for: Callable[[Decimal], Decimal],
    max_credit: Decimal | None = None,
) -> Rescue | None:
    """The smallest prepayment share (a multiple of ``prepayment_step`` up to ``max_prepayment_share``)
    that leaves at most ``max_credit`` on credit (None: no such bound) and the order earning; None
    if no share within the policy's maximum does both."""
    rules = economics.decisions
    share = rules.prepayment_step
    while share <= rules.max_prepayment_share:
        credit = to_cents(order.credit_amount * (ONE - share))
        if max_credit is None or credit <= max_credit:
            candidate = repriced(
                economics, order=order, terms_days=order.terms_days, credit=credit, insured=insured_for(credit), indemnity_share=order.indemnity_share
            )
            if candidate.expected_contribution > 0:
                return Rescue(code="prepayment", economics=candidate, share=share)
        share += rules.prepayment_step
    return None


@dataclass(frozen=True)
class LimitEconomics:
    """Why a recommended limit is what it is, per unit of exposure and per year (matrix currency).
    margin_per_year M = margin x 365 / D; expected_loss_rate E = PD12 x LGD; financing_rate C =
    cost of capital. Nothing earned (M - E - C <= 0): 0. Otherwise the financial capacity, capped
    by the risk appetite: E x limit <= max_expected_loss_share x M x capacity."""

    margin_rate: Decimal
    pd_12m: Decimal
    terms_days: int
    expected_days_late: Decimal
    exposure_days: Decimal
    margin_per_year: Decimal
    expected_loss_rate: Decimal
    financing_rate: Decimal
    net_rate: Decimal
    capacity_limit: Decimal
    max_expected_loss_share: Decimal
    appetite_limit: Decimal | None
    economic_limit: Decimal
    expected_contribution_per_year: Decimal


def limit_economics(
    economics: Economics,
    *,
    capacity: Decimal,
    margin_rate: Decimal,
    pd_12m: Decimal,
    terms_days: int,
    expected_days_late: Decimal,
) -> LimitEconomics:
    days = max(Decimal(terms_days) + expected_days_late, ONE)
    margin_per_year = margin_rate * YEAR / days
    loss_rate = pd_12m * economics.loss_given_default
    financing = economics.cost_of_capital
    net = margin_per_year - loss_rate - financing
    share = economics.risk_appetite.max_expected_loss_share
    appetite = None if loss_rate <= 0 else to_cents(share * margin_per_year * capacity / loss_rate)
    if net <= 0:
        limit = ZERO
    elif appetite is None:
        limit = capacity
    else:
        limit = min(capacity, appetite)
    return LimitEconomics(
        margin_rate=margin_rate,
        pd_12m=pd_12m,
        terms_days=terms_days,
        expected_days_late=expected_days_late,
        exposure_days=days,
        margin_per_year=margin_per_year.quantize(RATE),
        expected_loss_rate=loss_rate.quantize(RATE),
        financing_rate=financing,
        net_rate=net.quantize(RATE),
        capacity_limit=capacity,
        max_expected_loss_share=share,
        appetite_limit=appetite,
        economic_limit=to_cents(limit),
        expected_contribution_per_year=to_cents(limit * net),
    )


def insured_capacity(economics: Economics, *, cover: Decimal, indemnity_share: Decimal, limit: LimitEconomics) -> Decimal:
    """Exposure inside an insurer's cover risks only the part the insurer does not pay: per unit
    and year it earns M - PD12 x LGD x (1 - indemnity) - cost of capital - premium rate x 365 / D.
    The whole cover adds to the economic capacity when that is positive (an insurer that
    underwrote the buyer is the better judge of how much of it is sound), nothing otherwise."""
    if cover <= 0 or limit.pd_12m >= ONE:
        return ZERO
    loss_rate = limit.pd_12m * economics.loss_given_default * (ONE - indemnity_share)
    premium_per_year = economics.insurance.premium_rate * YEAR / limit.exposure_days
    net = limit.margin_per_year - loss_rate - economics.cost_of_capital - premium_per_year
    return to_cents(cover) if net > 0 else ZERO
