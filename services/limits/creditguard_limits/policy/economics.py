"""The money terms of the credit policy (its ``economics`` section): what an order earns, what its
credit costs, and how much expected loss the company accepts for it. Data, not code: a credit
manager tunes them in the policy file (docs/economics.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrossMargin(_Strict):
    """Gross margin as a share of the order amount. An order's product line wins over the buyer's
    industry (NACE code, longest matching prefix), which wins over the default."""

    default: Decimal = Field(default=Decimal("0.15"), ge=0, lt=1)
    by_industry: dict[str, Decimal] = {}
    by_product_line: dict[str, Decimal] = {}

    @field_validator("by_industry", "by_product_line")
    @classmethod
    def _margins(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, margin in value.items():
            if not key.strip():
                raise ValueError("an empty industry prefix or product line")
            if not Decimal(0) <= margin < Decimal(1):
                raise ValueError(f"margin {margin} for {key!r} must be at least 0 and below 1")
        return value

    def rate(self, *, industry: str | None, product_line: str | None) -> Decimal:
        if product_line is not None and product_line in self.by_product_line:
            return self.by_product_line[product_line]
        if industry:
            matches = [prefix for prefix in self.by_industry if industry.upper().startswith(prefix.upper())]
            if matches:
                return self.by_industry[max(matches, key=len)]
        return self.default


class InsuranceTerms(_Strict):
    # What an insurer pays of an insured loss when the buyer's cover names no indemnity percentage
    # (and for a cover the check suggests): the buyer's own cover's percentage wins.
    indemnity_share: Decimal = Field(default=Decimal("0.90"), ge=0, le=1)
    # Premium as a share of insured turnover.
    premium_rate: Decimal = Field(default=Decimal("0.002"), ge=0, le=1)


class RiskAppetite(_Strict):
    # A limit's expected loss may be at most this share of the gross margin the buyer's full
    # financial capacity would earn in a year. Lower: smaller limits for risky buyers.
    max_expected_loss_share: Decimal = Field(default=Decimal("0.50"), gt=0, le=1)


class ContributionDecisions(_Strict):
    """How the check acts on an order's expected contribution."""

    # An order with positive expected contribution that only its limit (a ramp-up, a rounded
    # limit) stops is approved while the exposure stays within the buyer's economic capacity.
    approve_within_economic_capacity: bool = True
    # ... also above a limit a credit manager set by hand (not only a policy limit).
    include_manual_limits: bool = True
    # An order expected to lose money that no condition rescues ("none": decide on limits alone).
    negative_contribution: Literal["approved_with_conditions", "referred", "rejected", "none"] = "referred"
    # Conditions tried on such an order, in this order: terms down to min_terms_days, then
    # prepayment in steps of prepayment_step up to max_prepayment_share, then insurance cover.
    # An earning order may take the exposure this share above the economic capacity: orders are
    # lumpy, and refusing a paying buyer's order for going 5 % over costs its whole margin.
    capacity_tolerance: Decimal = Field(default=Decimal("0.20"), ge=0, le=1)
    min_terms_days: int = Field(default=14, ge=0, le=365)
    prepayment_step: Decimal = Field(default=Decimal("0.10"), gt=0, le=1)
    max_prepayment_share: Decimal = Field(default=Decimal("0.50"), ge=0, le=1)


class Economics(_Strict):
    gross_margin: GrossMargin = GrossMargin()
    # Annual cost of the money tied up in receivables.
    cost_of_capital: Decimal = Field(default=Decimal("0.06"), ge=0, le=1)
    # Share of an unsecured trade receivable lost when the buyer defaults (the one LGD: the
    # forecast's expected loss reads it too).
    loss_given_default: Decimal = Field(default=Decimal("0.85"), ge=0, le=1)
    insurance: InsuranceTerms = InsuranceTerms()
    risk_appetite: RiskAppetite = RiskAppetite()
    decisions: ContributionDecisions = ContributionDecisions()
