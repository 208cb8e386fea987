"""Typed, versioned event payloads. A breaking change gets a new class and a new ``.vN`` type;
old versions stay until no consumer needs them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
BuyerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class RiskClass(StrEnum):
    """Scoring's risk classes, best first: the one enumeration every event, rule and collection
    strategy names them by."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


def normalise_risk_class(value: Any) -> Any:
    """Scoring once published ``very high``; events and rows of that time still say so."""
    if isinstance(value, str) and not isinstance(value, RiskClass):
        return value.strip().lower().replace(" ", "_").replace("-", "_")
    return value


RiskClassName = Annotated[RiskClass, BeforeValidator(normalise_risk_class)]


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InvoicePostedV1(EventPayload):
    invoice_id: str
    buyer_id: BuyerId
    order_id: str | None = None
    amount: Money
    currency: Currency
    issued_on: date
    due_on: date
    # True for documents of an imported book: history, not news. Consumers record them (payment
    # behaviour, receivables copies) but raise no alerts, collection steps or webhooks for them.
    historical: bool = False


class PaymentReceivedV1(EventPayload):
    payment_id: str
    buyer_id: BuyerId
    invoice_id: str
    amount: Money
    currency: Currency
    paid_on: date
    # See InvoicePostedV1.historical.
    historical: bool = False
    # What the invoice could not take (an overpayment): the buyer's unapplied cash, kept on its
    # account by limits. Limits sets it on the payments it records through its API; None from a
    # publisher that does not split payments (an ERP), whose surplus shows in exposure-changed.
    unapplied_amount: Money | None = None
    # True: no new money but the buyer's unapplied cash applied to this invoice (a cash
    # application). It settles the invoice like a payment; the cash was counted when received.
    from_unapplied_cash: bool = False


class CreditNoteIssuedV1(EventPayload):
    credit_note_id: str
    buyer_id: BuyerId
    invoice_id: str
    amount: Money
    currency: Currency
    issued_on: date


class PaymentLateV1(EventPayload):
    invoice_id: str
    buyer_id: BuyerId
    days_past_due: int
    # The threshold just crossed: 1, 15, 30, 60 or 90 days past due.
    bucket: int
    open_amount: Money
    currency: Currency
    due_on: date
    as_of: date


class ReasonV1(EventPayload):
    code: str
    message: str
    contribution: float | None = None


class ScoreChangedV1(EventPayload):
    buyer_id: BuyerId
    old_grade: int | None
    new_grade: int
    old_risk_class: RiskClassName | None
    new_risk_class: RiskClassName
    pd: float
    reasons: list[ReasonV1] = []
    model_version: str
    assessed_at: datetime


class LimitChangedV1(EventPayload):
    buyer_id: BuyerId
    old_amount: Money | None
    new_amount: Money
    currency: Currency
    changed_by: str
    reason: str | None = None
    # When the limit is due for its next credit review (alerts warns once it is overdue).
    review_due_on: date | None = None


class LimitBreachedV1(EventPayload):
    buyer_id: BuyerId
    limit: Money
    exposure: Money
    excess: Money
    currency: Currency


class CreditCheckDecidedV1(EventPayload):
    check_id: str
    buyer_id: BuyerId
    order_id: str
    decision: Literal["approved", "approved_with_conditions", "referred", "rejected"]
    amount: Money
    currency: Currency
    decided_by: str | None = None


class AccountStatusChangedV1(EventPayload):
    buyer_id: BuyerId
    old_status: str | None
    new_status: Literal["active", "on_hold", "blocked"]
    reason: str | None = None


class AccountHoldRequestedV1(EventPayload):
    """Collections asks the limits service to stop supplies (or lift the stop)."""

    buyer_id: BuyerId
    hold: bool
    reason: str
    case_id: str | None = None


class PromiseBrokenV1(EventPayload):
    """A buyer did not pay by the date it promised in collections."""

    buyer_id: BuyerId
    case_id: str
    invoice_id: str
    promised_until: date
    promised_amount: Money | None = None
    broken_on: date


class BuyerAssessedV1(EventPayload):
    """Every completed assessment, with the reference data other services keep about the buyer."""

    buyer_id: BuyerId
    assessment_id: str
    assessed_at: datetime
    model_version: str
    pd: float
    grade: int
    risk_class: RiskClassName
    name: str | None = None
    country: str | None = None
    industry: str | None = None
    group_id: str | None = None
    account_owner: str | None = None
    financial_data_missing: bool
    # Financial capacity from the latest statement, in its currency, for limit recommendations.
    equity: Money | None = None
    sales: Money | None = None
    statement_currency: Currency | None = None
    statement_date: date | None = None


class ExposureChangedV1(EventPayload):
    """A buyer's exposure after any change to its invoices, open orders or limit (limit's currency)."""

    buyer_id: BuyerId
    currency: Currency
    limit: Money | None
    exposure: Money
    open_invoices: Money
    open_orders: Money
    overdue: Money
    available: Money | None
    utilisation: float | None
    insured: Money = Decimal("0")
    uninsured: Money = Decimal("0")
    # Cash received and not applied to an invoice (overpayments, payments of invoices not yet
    # known, less refunds); already deducted from ``exposure``.
    unapplied_cash: Money = Decimal("0")


class CashRefundedV1(EventPayload):
    """Unapplied cash (an overpayment) was paid back to the buyer; the ERP books the payout."""

    refund_id: str
    buyer_id: BuyerId
    amount: Money
    currency: Currency
    refunded_on: date
    reason: str
    refunded_by: str
    # The buyer's unapplied cash in this currency after the refund.
    unapplied_cash_after: Money


class InsuranceCoverChangedV1(EventPayload):
    """Credit-insurance cover for a buyer was granted, changed or withdrawn."""

    buyer_id: BuyerId
    policy_id: str
    insurer: str
    currency: Currency
    insured_amount: Money
    indemnity_percentage: Decimal
    report_overdue_within_days: int
    file_claim_within_days: int
    valid_from: date | None = None
    valid_until: date | None = None
