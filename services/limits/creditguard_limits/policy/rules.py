"""The policy file's shape and the pure calculations on it: recommended limits and ramp-up."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditguard_limits.policy.economics import Economics

Decision = Literal["approved", "approved_with_conditions", "referred", "rejected"]
Action = Literal["approved_with_conditions", "referred", "rejected"]
# What an order that adds exposure beyond the buyer's insurance cover gets, set per insurance policy ("none": nothing).
UninsuredAction = Literal["referred", "approved_with_conditions", "none"]
BeyondUsualOnContribution = Literal["never", "within_cover", "always"]
CHECK_NAMES = ("account_status", "limit", "overdue", "single_order", "grade", "review_date", "terms", "insurance")
CENT = Decimal("0.01")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConditionTemplate(_Strict):
    code: str
    message: str
    percentage: Decimal | None = None


class GradePolicy(_Strict):
    max_limit: Decimal = Field(ge=0)
    max_single_order: Decimal = Field(ge=0)
    max_terms_days: int = Field(ge=0)
    equity_share: Decimal = Field(ge=0)
    sales_share: Decimal = Field(ge=0)
    action: Decision
    conditions: list[ConditionTemplate] = []


class AccountStatusCheck(_Strict):
    enabled: bool = True
    on_hold: Action = "referred"
    blocked: Action = "rejected"


class LimitCheck(_Strict):
    enabled: bool = True
    over_limit: Action = "referred"
    # Beyond this share of the limit over it, the order is rejected outright.
    reject_above_share_of_limit: Decimal | None = None


class OverdueCheck(_Strict):
    enabled: bool = True
    max_days_past_due: int = 30
    # A buyer paying later than it usually does is the earliest sign of trouble; one that always
    # pays 35 days late and does so again is not. Days past due beyond the buyer's own average days
    # late (over its settled invoices) that trigger the action; None turns the rule off.
    max_days_beyond_usual: int | None = Field(default=None, ge=0)
    # ... on top of the habit times this factor: one that usually pays 30 days late may drift to 45
    # and back (1.5 x 30), one that pays on time may not.
    usual_lateness_factor: Decimal = Field(default=Decimal("1.5"), ge=1)
    max_overdue_share_of_limit: Decimal | None = None
    action: Action = "referred"
    # When an order of a buyer late beyond its habit earns (EC > 0) anyway, instead of ``action``:
    # "within_cover" approves it while the exposure after it stays within the buyer's
    # credit-insurance cover (amount and credit period), where only the insurer's retention is at
    # risk; "always" approves it whenever it earns, since the PD already reads the lateness (days
    # past due move the grade); "never" keeps the referral, the credit manager's moment to call.
    # ``max_days_past_due`` stays a hard stop in every mode.
    beyond_usual_on_contribution: BeyondUsualOnContribution = "never"


class SimpleCheck(_Strict):
    enabled: bool = True
    action: Action = "referred"


class GradeCheck(_Strict):
    enabled: bool = True


class InsuranceCheck(_Strict):
    enabled: bool = True
    # What an order for a buyer without any cover gets ("none": nothing).
    no_cover_action: Action | Literal["none"] = "none"


class Checks(_Strict):
    account_status: AccountStatusCheck = AccountStatusCheck()
    limit: LimitCheck = LimitCheck()
    overdue: OverdueCheck = OverdueCheck()
    single_order: SimpleCheck = SimpleCheck()
    grade: GradeCheck = GradeCheck()
    review_date: SimpleCheck = SimpleCheck()
    terms: SimpleCheck = SimpleCheck(action="approved_with_conditions")
    insurance: InsuranceCheck = InsuranceCheck()


class UnknownBuyerPolicy(_Strict):
    # Up to this exposure (matrix currency) a buyer nobody has assessed or limited is approved.
    max_first_order: Decimal = Field(ge=0)
    otherwise: Action = "referred"


class RampUp(_Strict):
    start_fraction: Decimal = Field(gt=0, le=1)
    step_per_invoice_paid_on_time: Decimal = Field(ge=0)
    # A relationship older than this is established: the full recommendation, no probation.
    established_after_days: int = Field(default=365, ge=0)


class PaymentExperience(_Strict):
    """A buyer that has bought and paid for years has shown what it can carry, whatever its
    balance sheet says (thin or negative equity is common among small companies that pay): its
    capacity is at least the exposure its last twelve months of purchases run up at its usual
    terms and days late, plus ``headroom_days`` of purchases, up to the grade's maximum."""

    enabled: bool = True
    headroom_days: int = Field(default=60, ge=0, le=365)


class CreditPolicy(_Strict):
    version: str
    matrix_currency: str
    check_order: list[Literal["account_status", "limit", "overdue", "single_order", "grade", "review_date", "terms", "insurance"]]
    checks: Checks
    grades: dict[int, GradePolicy]
    ungraded: GradePolicy
    unknown_buyer: UnknownBuyerPolicy
    ramp_up: RampUp
    reservation_valid_days: int = Field(gt=0)
    # Probability of default assumed for buyers scoring has not assessed (forecast's expected
    # loss, an order's expected contribution).
    unassessed_pd: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    economics: Economics = Economics()
    payment_experience: PaymentExperience = PaymentExperience()

    @model_validator(mode="before")
    @classmethod
    def _one_loss_given_default(cls, data: object) -> object:
        """Older policy files set ``loss_given_default`` at the top; it lives in ``economics`` now,
        so the forecast and the credit check cannot read two different values."""
        if not isinstance(data, dict) or "loss_given_default" not in data:
            return data
        data = dict(data)
        legacy = data.pop("loss_given_default")
        economics = dict(data.get("economics") or {})
        if "loss_given_default" in economics and Decimal(str(economics["loss_given_default"])) != Decimal(str(legacy)):
            raise ValueError("loss_given_default is set twice with different values; keep economics.loss_given_default only")
        economics.setdefault("loss_given_default", legacy)
        data["economics"] = economics
        return data

    def for_grade(self, grade: int | None) -> GradePolicy:
        if grade is None:
            return self.ungraded
        return self.grades.get(grade, self.ungraded)


def ramp_up_fraction(ramp_up: RampUp, *, invoices_paid_on_time: int, relationship_days: int | None = None) -> Decimal:
    """``relationship_days``: how long the company has sold to the buyer (None: unknown, new)."""
    if relationship_days is not None and relationship_days > ramp_up.established_after_days:
        return Decimal(1)
    return min(Decimal(1), ramp_up.start_fraction + ramp_up.step_per_invoice_paid_on_time * invoices_paid_on_time)


def capacity_limit(grade_policy: GradePolicy, *, equity: Decimal | None, sales: Decimal | None, experienced: Decimal = Decimal(0)) -> Decimal:
    """The grade's maximum, capped by shares of equity and of sales when the statement has them;
    never below what the buyer's payment experience has shown it carries (``experienced``), up to
    the grade's maximum."""
    caps = [grade_policy.max_limit]
    if equity is not None:
        caps.append(max(equity, Decimal(0)) * grade_policy.equity_share)
    if sales is not None:
        caps.append(max(sales, Decimal(0)) * grade_policy.sales_share)
    return min(max(min(caps), experienced), grade_policy.max_limit).quantize(CENT)


def experienced_exposure(experience: PaymentExperience, *, purchases_12m: Decimal, terms_days: int, expected_days_late: Decimal) -> Decimal:
    """The exposure a year's purchases run up when paid as the buyer usually pays, plus headroom."""
    if not experience.enabled or purchases_12m <= 0:
        return Decimal(0)
    days = Decimal(terms_days) + max(expected_days_late, Decimal(0)) + experience.headroom_days
    return (purchases_12m * days / 365).quantize(CENT)
