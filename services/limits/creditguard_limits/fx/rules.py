from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from creditguard_shared.errors import Unprocessable

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RateTable:
    """Rates as the value of one unit in the reporting currency (which is worth 1)."""

    reporting_currency: str
    rates: dict[str, Decimal]

    def rate(self, currency: str) -> Decimal:
        if currency == self.reporting_currency:
            return Decimal(1)
        rate = self.rates.get(currency)
        if rate is None:
            raise Unprocessable(f"No exchange rate for {currency}; set it with PUT /v1/fx-rates/{currency}.", field="currency", currency=currency)
        return rate

    def convert(self, amount: Decimal, *, from_currency: str, to_currency: str) -> Decimal:
        if from_currency == to_currency:
            return amount
        return to_cents(amount * self.rate(from_currency) / self.rate(to_currency))

    def total(self, amounts_by_currency: dict[str, Decimal], *, to_currency: str) -> Decimal:
        return sum((self.convert(a, from_currency=c, to_currency=to_currency) for c, a in amounts_by_currency.items()), Decimal("0.00"))
