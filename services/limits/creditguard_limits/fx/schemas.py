from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class FxRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What one unit of the currency is worth in the reporting currency.
    rate: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10)]


class FxRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    rate: Decimal
    reporting_currency: str
    updated_by: str
    updated_at: datetime
