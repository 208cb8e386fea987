"""Reading a bulk limit file: one line per buyer, ``buyer_id,amount,currency,payment_terms_days``
and optionally ``review_on`` and ``reason``. Every line is checked before anything is applied."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

REQUIRED = ("buyer_id", "amount", "currency", "payment_terms_days")
OPTIONAL = ("review_on", "reason")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class LimitLine:
    line: int
    buyer_id: str
    amount: Decimal | None
    currency: str
    terms_days: int | None
    review_on: date | None
    reason: str | None
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


class FileProblem(ValueError):
    pass


def parse(text: str, *, max_rows: int) -> list[LimitLine]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileProblem(f"The first line must name the columns; missing: {', '.join(missing)}.")
    reader.fieldnames = header
    lines, seen = [], set[str]()
    for number, row in enumerate(reader, start=2):
        if number - 1 > max_rows:
            raise FileProblem(f"At most {max_rows} lines per import.")
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        lines.append(_line(number, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}, seen))
    if not lines:
        raise FileProblem("The file has no lines below its header.")
    return lines


def _line(number: int, row: dict[str, str], seen: set[str]) -> LimitLine:
    problems = []
    buyer_id = row.get("buyer_id", "")
    if not IDENTIFIER.match(buyer_id):
        problems.append("buyer_id is missing or not an id")
    elif buyer_id in seen:
        problems.append("buyer_id appears twice in the file")
    seen.add(buyer_id)
    amount = None
    try:
        amount = Decimal(row.get("amount", "").replace(",", ""))
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            problems.append("amount must be zero or more, with at most two decimals")
            amount = None
    except InvalidOperation:
        problems.append("amount is not a number")
    currency = row.get("currency", "").upper()
    if not CURRENCY.match(currency):
        problems.append("currency is not a three-letter code")
    terms = row.get("payment_terms_days", "")
    terms_days = int(terms) if terms.isdigit() and int(terms) <= 365 else None
    if terms_days is None:
        problems.append("payment_terms_days must be 0 to 365")
    review_on = None
    if row.get("review_on"):
        try:
            review_on = date.fromisoformat(row["review_on"])
        except ValueError:
            problems.append("review_on is not a date (YYYY-MM-DD)")
    reason = row.get("reason") or None
    if reason and len(reason) > 500:
        problems.append("reason is longer than 500 characters")
    return LimitLine(
        line=number, buyer_id=buyer_id, amount=amount, currency=currency, terms_days=terms_days, review_on=review_on, reason=reason, problems=tuple(problems)
    )
