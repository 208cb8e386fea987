"""Field types the services' request schemas share, so every API validates ids, currencies, dates
and money the same way (docs/api-conventions.md lists the rules).

- Ids: 1-64 characters from letters, digits and ``. _ : @ -``, starting with a letter or digit.
  Anything else (a NUL, a slash that would split a path, a space) is refused with 422.
- Amounts: a JSON number or a plain decimal string, more than 0 (or at least 0) and at most
  ``MAX_AMOUNT``, at most two decimals; parsed straight to Decimal, never through float, and
  normalised to two decimals ("1e3" as a number is 1000.00). The maximum leaves every column
  (NUMERIC(18, 2)), every total of a buyer's documents and every event room to hold the sums.
- Dates: ISO 8601 strings (YYYY-MM-DD) only, years 1800-2999; a number is not a date.
- Currencies: ISO 4217 codes in circulation; countries: ISO 3166-1 alpha-2 shaped codes.
- Paging: ``offset`` at most ``MAX_OFFSET``, so no integer reaches the database that it cannot hold.
- Text: no string in a JSON or form body or in the query holds a NUL or a lone UTF-16 surrogate
  (U+0000, an unpaired U+D800-U+DFFF): PostgreSQL cannot store the one, UTF-8 cannot encode the other.
  ``storable_text`` refuses them with 422 for every route of an app, before any field is read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Request
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from creditguard_shared.errors import Unprocessable

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$"
MAX_AMOUNT = Decimal("999999999999.99")
MAX_OFFSET = 1_000_000_000
CENT = Decimal("0.01")
PLAIN_DECIMAL = re.compile(r"^-?\d{1,12}(\.\d{1,2})?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_YEAR, LATEST_YEAR = 1800, 2999

# Active ISO 4217 currency codes (the list-one table, funds and precious metals left out).
ISO_4217 = frozenset(
    """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG
XOF XPF YER ZAR ZMW ZWG
""".split()
)


def _currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


def _plain_amount(value: Any) -> Any:
    # A string must be a plain decimal: "1e3", "" or " 5" are refused rather than guessed at.
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        raise ValueError("an amount as a plain decimal string such as 48000.00 (at most 12 digits before the point and 2 after)")
    return value


def _in_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date as an ISO 8601 string, YYYY-MM-DD")


def _plausible_year(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"a year between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _amount_schema(*, minimum: str) -> WithJsonSchema:
    bound = {"exclusiveMinimum": 0} if minimum == "exclusive" else {"minimum": 0}
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", **bound, "maximum": float(MAX_AMOUNT), "multipleOf": 0.01},
                {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
            ],
            "description": f"Money: a number or a plain decimal string, at most two decimals, at most {MAX_AMOUNT}; answered as a string with two decimals.",
            "examples": ["48000.00"],
        }
    )


Identifier = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ID_PATTERN)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_plain_amount),
    Field(gt=0, le=MAX_AMOUNT, max_digits=14, decimal_places=2),
    AfterValidator(_in_cents),
    _amount_schema(minimum="exclusive"),
]
NonNegativeAmount = Annotated[
    Decimal,
    BeforeValidator(_plain_amount),
    Field(ge=0, le=MAX_AMOUNT, max_digits=14, decimal_places=2),
    AfterValidator(_in_cents),
    _amount_schema(minimum="inclusive"),
]
IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_plausible_year)]
# An id in a URL path: the same rule, so a PUT never creates what a body could not name.
PathId = Annotated[str, Path(pattern=ID_PATTERN)]


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which a JSON escape can spell
        return True
    return False


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, path)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


async def _unstorable_fields(request: Request) -> list[tuple[str, str]]:
    refused = [("query", name) for name, value in request.query_params.multi_items() if _unstorable(name) or _unstorable(value)]
    if request.method not in ("POST", "PUT", "PATCH"):
        return refused
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        # The form as FastAPI parsed it for the route (the stream is read once).
        form = await request.form()
        refused += [("body", name) for name, value in form.multi_items() if isinstance(value, str) and (_unstorable(name) or _unstorable(value))]
    elif content_type.endswith("json"):
        body = await request.body()
        # Valid JSON can hold a NUL or a lone surrogate only as an escape (backslash-u): other bodies are not parsed twice.
        if b"\\u" in body:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError):
                return refused  # not JSON: the route's own validation says so
            refused += [("body", field) for field, text in _strings(document, "") if _unstorable(text)]
    return list(dict.fromkeys(refused))


async def storable_text(request: Request) -> None:
    """App-wide dependency: refuse text no database can store (see the module docstring)."""
    refused = await _unstorable_fields(request)
    if refused:
        message = "text with a NUL character or a lone surrogate, which cannot be stored"
        raise Unprocessable(
            "Request validation failed: " + "; ".join(f"{field or location}: {message}" for location, field in refused[:5]),
            errors=[{"field": field, "location": location, "message": message, "type": "string_unstorable"} for location, field in refused],
        )
