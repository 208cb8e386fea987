from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# Decimal strings or JSON numbers are accepted; floats never reach the service (pydantic parses to Decimal).
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


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
