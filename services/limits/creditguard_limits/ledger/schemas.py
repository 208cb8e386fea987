from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from creditguard_shared.schema_types import CurrencyCode, Identifier, IsoDate, PositiveAmount


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: Identifier
    buyer_id: Identifier
    order_id: Identifier | None = None
    amount: PositiveAmount
    currency: CurrencyCode
    issued_on: IsoDate
    due_on: IsoDate

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoiceIn:
        if self.due_on < self.issued_on:
            raise ValueError("due_on must not be before issued_on")
        return self


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    invoice_id: str
    buyer_id: str
    order_id: str | None
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    open_amount: Decimal


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: Identifier
    buyer_id: Identifier
    invoice_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    paid_on: IsoDate


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    paid_on: date
    # The part that settled the invoice; None while the invoice is unknown (a payment consumed
    # from Kafka before its invoice is held whole).
    applied_amount: Decimal | None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern for computed fields on properties
    @property
    def unapplied_amount(self) -> Decimal:
        """What the invoice could not take: the buyer's unapplied cash (all of it while held)."""
        return self.amount - (self.applied_amount or Decimal("0.00"))


# Documents in one batch request: one transaction, a few hundred milliseconds of the database.
MAX_BATCH_DOCUMENTS = 500


class InvoiceBatchIn(BaseModel):
    """An ERP's invoice run."""

    model_config = ConfigDict(extra="forbid")

    invoices: list[InvoiceIn] = Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)


class _BatchItemOut(BaseModel):
    # False: the document was already recorded with the same content (a re-sent document).
    created: bool


class InvoiceBatchItemOut(_BatchItemOut):
    invoice: InvoiceOut


class _BatchCounts(BaseModel):
    """How many of a batch's documents were new; the subclass says what its ``items`` are."""

    items: Sequence[_BatchItemOut]

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern for computed fields on properties
    @property
    def created(self) -> int:
        return sum(item.created for item in self.items)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern for computed fields on properties
    @property
    def unchanged(self) -> int:
        return len(self.items) - self.created


class InvoiceBatchOut(_BatchCounts):
    items: list[InvoiceBatchItemOut]


class PaymentBatchIn(BaseModel):
    """A bank statement's payments."""

    model_config = ConfigDict(extra="forbid")

    payments: list[PaymentIn] = Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)


class PaymentBatchItemOut(_BatchItemOut):
    payment: PaymentOut


class PaymentBatchOut(_BatchCounts):
    items: list[PaymentBatchItemOut]


class CreditNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_note_id: Identifier
    buyer_id: Identifier
    invoice_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    issued_on: IsoDate


class CreditNoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    credit_note_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    issued_on: date


class CashApplicationIn(BaseModel):
    """Some of a buyer's unapplied cash applied to one of its open invoices (the buyer comes from the path)."""

    model_config = ConfigDict(extra="forbid")

    # Idempotency key, unique among payments and cash applications: the application is published
    # as a payment of the invoice under this id.
    application_id: Identifier
    invoice_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    applied_on: IsoDate


class CashApplicationOut(BaseModel):
    application_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    applied_on: date
    # The invoice's open amount after the application.
    invoice_open_amount: Decimal


class RefundIn(BaseModel):
    """Unapplied cash paid back to the buyer (the buyer comes from the path)."""

    model_config = ConfigDict(extra="forbid")

    # Idempotency key: the same id and content again answers the recorded refund.
    refund_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    refunded_on: IsoDate
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    refund_id: str
    buyer_id: str
    amount: Decimal
    currency: str
    refunded_on: date
    reason: str
    refunded_by: str


class CashBalanceOut(BaseModel):
    """One currency of a buyer's cash: received = applied + held + refunded + unapplied free."""

    currency: str
    received: Decimal
    applied: Decimal
    # Payments of invoices not recorded yet: they count against the exposure but wait for their
    # invoice, so they cannot be refunded.
    held_for_unknown_invoices: Decimal
    refunded: Decimal
    # Overpayments less refunds: what a refund may pay back.
    refundable: Decimal
    # refundable + held: what the exposure deducts.
    unapplied_cash: Decimal


class BuyerCashOut(BaseModel):
    buyer_id: str
    balances: list[CashBalanceOut]
    refunds: list[RefundOut]
