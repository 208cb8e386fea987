from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class ReceivableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    invoice_id: str
    buyer_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    open_amount: Decimal
    settled_on: date | None
    late_bucket: int
