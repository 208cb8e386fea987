"""How payments and credit notes settle an invoice, for the services that keep a copy of the
receivables from the event stream (their events may arrive in any order across topics)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class SettlementState:
    open_amount: Decimal
    # The date the open amount first reached zero, or None while anything is open.
    settled_on: date | None


def settle(amount: Decimal, settlements: Iterable[tuple[date, Decimal]]) -> SettlementState:
    remaining = amount
    settled_on: date | None = None
    for on, settled_amount in sorted(settlements, key=lambda s: s[0]):
        remaining -= settled_amount
        if remaining <= 0 and settled_on is None:
            settled_on = on
    return SettlementState(open_amount=max(remaining, Decimal("0.00")), settled_on=settled_on)
