"""Payment experience: a buyer that has bought and paid for a year carries what its purchases run
up, even when its balance sheet alone would allow nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from services.limits.tests.conftest import TODAY
from services.limits.tests.helpers import assess, check, money, new_buyer, post_invoice


def _year_of_history(buyer: str) -> dict:
    """Twelve monthly invoices of 30,000 over the last year, each paid on its due date."""
    invoices, payments = [], []
    for month in range(12):
        issued = TODAY.date() - timedelta(days=360 - 30 * month)
        due = issued + timedelta(days=30)
        invoices.append(
            {
                "invoice_id": f"{buyer}-I{month}",
                "buyer_id": buyer,
                "amount": "30000.00",
                "currency": "EUR",
                "issued_on": issued.isoformat(),
                "due_on": due.isoformat(),
            }
        )
        if due < TODAY.date():
            payments.append(
                {
                    "payment_id": f"{buyer}-P{month}",
                    "buyer_id": buyer,
                    "invoice_id": f"{buyer}-I{month}",
                    "amount": "30000.00",
                    "currency": "EUR",
                    "paid_on": due.isoformat(),
                }
            )
    return {"accounts": [{"buyer_id": buyer, "relationship_since": "2019-03-01", "limit": None}], "invoices": invoices, "payments": payments}


async def test_a_years_purchases_paid_as_usual_give_a_thin_balance_sheet_its_capacity(limits):
    buyer = new_buyer()
    await assess(limits, buyer, grade=5, pd="0.015", equity="-50000", sales="2000000")
    before = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    assert money(before["recommendation"]["capacity_limit"]) == 0
    refused = await check(limits, buyer, f"SO-{buyer}-0", "20000.00", terms=30)
    assert refused["decision"] != "approved"

    imported = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=_year_of_history(buyer))
    assert imported.status_code == 200, imported.text

    limit = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    # 360,000 bought in the last year, at the grade's usual terms plus the policy's headroom.
    terms = limit["recommendation"]["max_terms_days"]
    headroom = limits.app.state.limits.policy.current.payment_experience.headroom_days
    purchases = Decimal("360000.00")
    assert money(limit["recommendation"]["capacity_limit"]) == (purchases * (terms + headroom) / 365).quantize(Decimal("0.01"))
    assert money(limit["amount"]) == money(limit["recommendation"]["amount"]) > Decimal("50000")
    approved = await check(limits, buyer, f"SO-{buyer}-1", "20000.00", terms=30)
    assert approved["decision"] == "approved", approved

    # The daily sweep keeps the figure current: a new invoice of today adds to the year.
    await post_invoice(limits, buyer, f"{buyer}-NEW", "10000.00", issued_on=TODAY.date().isoformat(), due_on=(TODAY.date() + timedelta(days=30)).isoformat())
    swept = (await limits.client.post("/v1/sweeps/daily", headers=limits.auth("credit_manager"))).json()
    assert swept["payment_experience_refreshed"] >= 1
    after = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    assert money(after["recommendation"]["capacity_limit"]) == ((purchases + 10000) * (terms + headroom) / 365).quantize(Decimal("0.01"))
    assert (await limits.client.post("/v1/sweeps/daily", headers=limits.auth("credit_manager"))).json()["payment_experience_refreshed"] == 0
    assert date.fromisoformat(after["relationship_since"]) == date(2019, 3, 1)
