"""What a credit policy earns the company, in money: the same book and seed run under each policy,
judged by its net contribution (gross margin on what was sold, less bad debt after insurance,
the cost of financing the receivables and the insurance premium)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

from creditguard_simulation.engine import RunResult

ZERO = Decimal(0)
TURNED_AWAY = ("rejected", "walked_away")


@dataclass(frozen=True)
class CompanyEconomics:
    """The selling company's money terms; the credit policy the live run uses carries the same."""

    margin: Decimal = Decimal("0.15")
    # Annual cost of the money tied up in receivables.
    cost_of_capital: Decimal = Decimal("0.06")
    # The credit insurer's premium, as a share of the credit sales to insured buyers.
    premium_rate: Decimal = Decimal("0.002")


@dataclass(frozen=True)
class PolicyResult:
    """One policy's year (EUR). ``sales`` counts what was shipped (a prepaid part too); ``credit_sales``
    only what was invoiced on credit; good sales are the orders of buyers that never defaulted."""

    sales: Decimal
    credit_sales: Decimal
    gross_margin: Decimal
    gross_bad_debt: Decimal
    insurer_paid: Decimal
    net_bad_debt: Decimal
    financing_cost: Decimal
    insurance_premium: Decimal
    net_contribution: Decimal
    good_sales: Decimal
    good_sales_turned_away: Decimal
    good_orders_turned_away: int
    bad_sales_stopped: Decimal

    @property
    def good_turned_away_share(self) -> float:
        return float(self.good_sales_turned_away / self.good_sales) if self.good_sales else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {name: float(value) if isinstance(value, Decimal) else value for name, value in asdict(self).items()}


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def policy_result(run: RunResult, economics: CompanyEconomics) -> PolicyResult:
    defaulters = set(run.defaults)
    shipped = [r for r in run.orders if r.outcome == "invoiced"]
    sales = sum((r.order.amount for r in shipped), ZERO)
    credit_sales = run.invoiced_total
    insured = {buyer_id for buyer_id, covered in run.insured_buyers.items() if covered}
    insured_sales = sum((i.document.amount for i in run.invoices.values() if i.document.buyer_id in insured), ZERO)
    gross_bad_debt = sum((d.loss for d in run.defaults.values()), ZERO)
    insurer_paid = sum((d.recovered for d in run.defaults.values()), ZERO)
    # Receivables are financed day by day at the annual cost of capital.
    financing = sum(run.daily_receivables, ZERO) * economics.cost_of_capital / 365
    premium = insured_sales * economics.premium_rate
    gross_margin = sales * economics.margin
    net_bad_debt = gross_bad_debt - insurer_paid
    good = [r for r in run.orders if r.order.buyer_id not in defaulters]
    good_turned_away = [r for r in good if r.outcome in TURNED_AWAY]
    return PolicyResult(
        sales=_cents(sales),
        credit_sales=_cents(credit_sales),
        gross_margin=_cents(gross_margin),
        gross_bad_debt=_cents(gross_bad_debt),
        insurer_paid=_cents(insurer_paid),
        net_bad_debt=_cents(net_bad_debt),
        financing_cost=_cents(financing),
        insurance_premium=_cents(premium),
        net_contribution=_cents(gross_margin - net_bad_debt - financing - premium),
        good_sales=_cents(sum((r.order.amount for r in good), ZERO)),
        good_sales_turned_away=_cents(sum((r.order.amount for r in good_turned_away), ZERO)),
        good_orders_turned_away=len(good_turned_away),
        bad_sales_stopped=_cents(sum((r.order.amount for r in run.orders if r.order.buyer_id in defaulters and r.outcome in TURNED_AWAY), ZERO)),
    )


def credit_policy(economics: CompanyEconomics, *, risk_appetite: Decimal | None = None) -> dict:
    """limits' packaged credit policy with the company's money terms (and a risk appetite, when
    given): the live run decides with the same margin, cost of capital and premium the report counts."""
    from creditguard_limits.policy.service import DEFAULT_POLICY_FILE

    policy = json.loads(DEFAULT_POLICY_FILE.read_text())
    terms = policy.setdefault("economics", {})
    terms.setdefault("gross_margin", {})["default"] = str(economics.margin)
    terms["cost_of_capital"] = str(economics.cost_of_capital)
    terms.setdefault("insurance", {})["premium_rate"] = str(economics.premium_rate)
    if risk_appetite is not None:
        terms.setdefault("risk_appetite", {})["max_expected_loss_share"] = str(risk_appetite)
    policy["version"] = f"{policy['version']}-simulation"
    return policy
