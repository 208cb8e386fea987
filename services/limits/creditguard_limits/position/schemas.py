from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class GroupExposureOut(BaseModel):
    group_id: str
    limit: Decimal
    exposure: Decimal
    available: Decimal


class ExposureOut(BaseModel):
    buyer_id: str
    currency: str
    status: str
    limit: Decimal | None
    temporary_increase: Decimal
    open_invoices: Decimal
    open_orders: Decimal
    # Cash received and not applied to an invoice (overpayments, payments of invoices not yet
    # recorded), less refunds, in the position's currency: exposure = max(open_invoices +
    # open_orders - unapplied_cash, 0).
    unapplied_cash: Decimal
    exposure: Decimal
    overdue: Decimal
    overdue_by_bucket: dict[str, Decimal]
    oldest_overdue_days: int
    available: Decimal | None
    utilisation: float | None
    insured: Decimal
    uninsured: Decimal
    group: GroupExposureOut | None
