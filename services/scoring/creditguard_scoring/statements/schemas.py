from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from creditguard_scoring.statements.rules import ISO_CURRENCIES
from creditguard_shared.schema_types import IsoDate

StatementAmount = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class StatementLinesModel(BaseModel):
    """The balance-sheet and income-statement lines; leave out what the statement does not show."""

    total_assets: StatementAmount | None = None
    current_assets: StatementAmount | None = None
    cash: StatementAmount | None = None
    receivables: StatementAmount | None = None
    inventory: StatementAmount | None = None
    fixed_assets: StatementAmount | None = None
    total_liabilities: StatementAmount | None = None
    short_term_liabilities: StatementAmount | None = None
    long_term_liabilities: StatementAmount | None = None
    equity: StatementAmount | None = None
    share_capital: StatementAmount | None = None
    retained_earnings: StatementAmount | None = None
    sales: StatementAmount | None = None
    cost_of_products_sold: StatementAmount | None = None
    gross_profit: StatementAmount | None = None
    operating_profit: StatementAmount | None = None
    ebit: StatementAmount | None = None
    depreciation: StatementAmount | None = None
    interest_expenses: StatementAmount | None = None
    net_profit: StatementAmount | None = None
    prior_year_sales: StatementAmount | None = None


class StatementIn(StatementLinesModel):
    model_config = ConfigDict(extra="forbid")

    fiscal_year: int = Field(ge=1900, le=2200)
    period_end: IsoDate
    currency: str = Field(description="ISO 4217 code of the statement's currency")
    source: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in ISO_CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return value


class StatementOut(StatementLinesModel):
    model_config = ConfigDict(from_attributes=True)

    buyer_id: str
    fiscal_year: int
    period_end: date
    currency: str
    source: str | None
    received_at: datetime
    ratios: dict[str, float | None] = Field(default_factory=dict, description="X1..X64 computed from this statement; null = not computable")
