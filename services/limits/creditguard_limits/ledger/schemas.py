from __future__ import annotations

from datetime import date
from decimal import Decimal
from pydantic import BaseModel, ConfigDict, model_validator

from creditguard_shared.schema_types import CurrencyCode, Identifier, PositiveAmount


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: Identifier
    buyer_id: Identifier
    order_id: Identifier | None = None
    amount: PositiveAmount
    currency: CurrencyCode
    issued_on: date
    due_on: date

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
    paid_on: date


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    paid_on: date


class CreditNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_note_id: Identifier
    buyer_id: Identifier
    invoice_id: Identifier
    amount: PositiveAmount
    currency: CurrencyCode
    issued_on: date


class CreditNoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    credit_note_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    issued_on: date
