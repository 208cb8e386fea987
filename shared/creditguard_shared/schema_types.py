"""Field types the services' request schemas share, so every API validates ids, currencies and
money the same way. Amounts are Decimal end to end: JSON numbers and decimal strings are both
accepted and parsed straight to Decimal, never through float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]
NonNegativeAmount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
