"""Profile validation: industries as NACE Rev. 2 sections or divisions, in the notations people use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from creditguard_scoring.buyers.schemas import BuyerIn

PROFILE = {"name": "Muster GmbH", "country": "DE"}


@pytest.mark.parametrize(("given", "stored"), [("C", "C"), ("28", "28"), ("c28", "28"), ("C28.1", "28.1"), ("41.20", "41.20")])
def test_industry_notations(given, stored):
    assert BuyerIn(**PROFILE, industry=given).industry == stored


@pytest.mark.parametrize("given", ["A28", "Z", "04", "C2", "manufacturing"])
def test_unknown_or_mismatched_industries_are_refused(given):
    with pytest.raises(ValidationError, match="NACE"):
        BuyerIn(**PROFILE, industry=given)
