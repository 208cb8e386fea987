from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class PaymentBehaviourOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    buyer_id: str
    as_of: date
    invoices_total: int
    invoices_open: int
    open_amount: Decimal
    overdue_amount: Decimal
    average_days_beyond_terms: float | None
    share_paid_late: float | None
    worst_days_past_due_12m: int
    current_days_past_due: int
    payment_index: float | None
    payment_index_trend_90d: float | None
    broken_promises_12m: int
