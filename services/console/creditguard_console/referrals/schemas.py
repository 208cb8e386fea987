from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

QueueSort = Literal["created_at", "-created_at", "-amount", "amount", "-exposure_after"]
SORT_LABELS = {
    "created_at": "Oldest first",
    "-created_at": "Newest first",
    "-amount": "Largest amount",
    "amount": "Smallest amount",
    "-exposure_after": "Largest exposure after",
}


class QueueFilters(BaseModel):
    """The queue's query string; the same filters drive the CSV export."""

    mine: bool = False
    owner: str | None = Field(None, max_length=200)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    grade: int | None = Field(None, ge=1, le=10)
    reason: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    sort: QueueSort = "created_at"
    page: int = Field(1, ge=1)
    per_page: int = Field(25, ge=1, le=200)

    def query(self, **changes: Any) -> dict[str, Any]:
        values = self.model_dump() | changes
        return {k: ("1" if v is True else v) for k, v in values.items() if v not in (None, False, "")}


@dataclass(frozen=True)
class QueueRow:
    check: dict
    buyer: dict | None
    age_hours: float

    @property
    def expected_contribution(self) -> Decimal | None:
        economics = self.check.get("economics")
        return Decimal(economics["expected_contribution"]) if economics else None

    @property
    def insured(self) -> Decimal | None:
        economics = self.check.get("economics")
        return Decimal(economics["insured"]) if economics else None

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.check["created_at"])


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    filters: QueueFilters
    reasons: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.per_page))
