from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel


class ShareOut(BaseModel):
    key: str
    exposure: Decimal
    share: float


class PortfolioOut(BaseModel):
    currency: str
    as_of: date
    buyers: int
    total_exposure: Decimal
    open_invoices: Decimal
    open_orders: Decimal
    # Overpayments and unmatched payments held for buyers, less refunds (deducted from exposures).
    unapplied_cash: Decimal
    overdue_by_bucket: dict[str, Decimal]
    insured: Decimal
    uninsured: Decimal
    total_limits: Decimal
    utilisation_distribution: dict[str, int]
    top_buyers: list[ShareOut]
    countries: list[ShareOut]
    industries: list[ShareOut]
    herfindahl_index: float
    # Buyers left out of every figure above: an amount of theirs is in a currency without a rate.
    unconverted_buyers: list[str] = []


class ForecastWeekOut(BaseModel):
    week: int
    week_start: date
    expected_collections: Decimal
    expected_loss: Decimal


class CashInForecastOut(BaseModel):
    currency: str
    as_of: date
    weeks: list[ForecastWeekOut]
    beyond_horizon: Decimal
    total_open: Decimal
    expected_loss: Decimal
    # Buyers whose invoices are left out: an amount of theirs is in a currency without a rate.
    unconverted_buyers: list[str] = []
