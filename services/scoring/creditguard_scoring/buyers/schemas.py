from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from creditguard_scoring.buyers.rules import is_country
from creditguard_shared.nace import NACE_CODE, nace_section
from creditguard_shared.schema_types import CountryCode, Identifier, IsoDate

SECTION_LETTERED_DIVISION = re.compile(r"([A-U])(\d{2}(?:\.\d{1,2}){0,2})")

Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class BuyerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")
    industry: str | None = Field(None, description="NACE Rev. 2 section (A-U) or division (e.g. 41 or 41.20)")
    registration_number: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)] | None = None
    legal_form: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)] | None = None
    founded_on: IsoDate | None = None
    group_id: Identifier | None = None
    account_owner: Text200 | None = None

    @field_validator("country")
    @classmethod
    def _assigned_country(cls, value: str) -> str:
        if not is_country(value):
            raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
        return value

    @field_validator("industry")
    @classmethod
    def _nace_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        lettered = SECTION_LETTERED_DIVISION.fullmatch(value)
        if lettered and nace_section(lettered.group(2)) == lettered.group(1):
            value = lettered.group(2)  # Eurostat writes division 28 as "C28"; keep the plain code
        if not NACE_CODE.match(value) or nace_section(value) is None:
            raise ValueError(f"'{value}' is not a NACE Rev. 2 section or division")
        return value


class BuyerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    buyer_id: str
    name: str
    country: str
    industry: str | None
    registration_number: str | None
    legal_form: str | None
    founded_on: date | None
    group_id: str | None
    account_owner: str | None
    created_at: datetime
    updated_at: datetime


class AdverseEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Identifier | None = Field(None, description="Your id for the event; a re-send with the same id is harmless")
    kind: Literal["insolvency_filing", "court_judgment", "payment_default"]
    occurred_on: IsoDate
    resolved_on: IsoDate | None = Field(None, description="Dismissed, settled or paid; a resolved event weighs less")
    source: Text200 | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None


class AdverseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    buyer_id: str
    kind: str
    occurred_on: date
    resolved_on: date | None
    source: str | None
    description: str | None
    recorded_at: datetime
