"""Onboarding an existing book through POST /v1/imports: one transaction, the ledger's rules,
history published as history, and the ramp-up left to relationships that are really new."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.limits.tests.conftest import TODAY
from services.limits.tests.helpers import assess, emitted, money, new_buyer, set_limit

SINCE_YEARS = "2019-03-01"


def _invoice(buyer: str, number: int, amount: str, *, issued_on: str, due_on: str) -> dict:
    return {"invoice_id": f"{buyer}-I{number}", "buyer_id": buyer, "amount": amount, "currency": "EUR", "issued_on": issued_on, "due_on": due_on}


def _payment(buyer: str, number: int, amount: str, *, paid_on: str) -> dict:
    return {"payment_id": f"{buyer}-P{number}", "buyer_id": buyer, "invoice_id": f"{buyer}-I{number}", "amount": amount, "currency": "EUR", "paid_on": paid_on}


def _book(established: str, newcomer: str, limited: str) -> dict:
    return {
        "accounts": [
            {"buyer_id": established, "relationship_since": SINCE_YEARS, "limit": None},
            {"buyer_id": newcomer, "relationship_since": "2026-09-01", "limit": None},
            {
                "buyer_id": limited,
                "relationship_since": "2021-01-15",
                "limit": {"amount": "40000.00", "currency": "EUR", "payment_terms_days": 30, "review_on": "2027-06-30"},
            },
        ],
        # Payments listed before their invoices, and the open invoice first: applied in date order.
        "payments": [
            _payment(established, 1, "12000.00", paid_on="2026-08-30"),
            _payment(newcomer, 1, "3000.00", paid_on="2026-10-10"),
            _payment(newcomer, 2, "3000.00", paid_on="2026-11-09"),
            _payment(limited, 1, "50000.00", paid_on="2026-10-20"),
        ],
        "invoices": [
            _invoice(established, 2, "8000.00", issued_on="2026-11-15", due_on="2026-12-15"),
            _invoice(established, 1, "12000.00", issued_on="2026-08-01", due_on="2026-08-31"),
            _invoice(newcomer, 1, "3000.00", issued_on="2026-09-10", due_on="2026-10-10"),
            _invoice(newcomer, 2, "3000.00", issued_on="2026-10-10", due_on="2026-11-09"),
            _invoice(limited, 1, "50000.00", issued_on="2026-09-20", due_on="2026-10-20"),
            # Above its limit of 40,000 while still open: the position says so, but no limit-breached.
            _invoice(limited, 2, "45000.00", issued_on="2026-11-20", due_on="2026-12-20"),
        ],
    }


def test_the_ramp_up_spares_relationships_older_than_established_after_days():
    from creditguard_limits.policy.rules import RampUp, ramp_up_fraction

    ramp_up = RampUp(start_fraction=Decimal("0.25"), step_per_invoice_paid_on_time=Decimal("0.15"), established_after_days=365)
    assert ramp_up_fraction(ramp_up, invoices_paid_on_time=2, relationship_days=366) == 1
    assert ramp_up_fraction(ramp_up, invoices_paid_on_time=2, relationship_days=365) == Decimal("0.55")
    assert ramp_up_fraction(ramp_up, invoices_paid_on_time=0, relationship_days=None) == Decimal("0.25")


def test_an_import_is_applied_in_date_order_and_a_prepayment_after_its_invoice():
    from creditguard_limits.imports.rules import ledger_order
    from creditguard_limits.ledger.schemas import InvoiceIn, PaymentIn

    invoices = [InvoiceIn.model_validate(_invoice("B", n, "100.00", issued_on=on, due_on="2026-12-31")) for n, on in ((1, "2026-10-05"), (2, "2026-09-01"))]
    payments = [PaymentIn.model_validate(_payment("B", n, "100.00", paid_on=on)) for n, on in ((2, "2026-10-05"), (1, "2026-10-01"))]
    order = [d.payment_id if isinstance(d, PaymentIn) else d.invoice_id for _, d in ledger_order(invoices, payments)]
    # P1 was paid before its invoice was issued (a prepayment): it follows I1; P2 follows I1 on the same day.
    assert order == ["B-I2", "B-I1", "B-P1", "B-P2"]


async def _limit(limits, buyer: str) -> dict:
    response = await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))
    assert response.status_code == 200, response.text
    return response.json()


def _following(limit: dict, fraction: str) -> Decimal:
    """The limit, checked to be the policy's recommendation at ``fraction`` of the ramp-up (whatever
    the matrix and economics make the full recommendation)."""
    recommendation = limit["recommendation"]
    assert (limit["limit_source"], money(recommendation["ramp_up_fraction"])) == ("policy", Decimal(fraction)), limit
    amount, recommended = money(limit["amount"]), money(recommendation["amount"])
    assert amount is not None and recommended is not None and amount == recommended > 0, limit
    return amount


async def _outbox_size(limits) -> int:
    from sqlalchemy import text

    async with limits.runtime.engine.connect() as connection:
        return (await connection.execute(text("SELECT COUNT(*) FROM outbox_events"))).scalar_one()


async def test_an_imported_book_sets_relationships_limits_and_ramp_up_and_publishes_history_as_history(limits):
    established, newcomer, limited = new_buyer(), new_buyer(), new_buyer()
    for buyer in (established, newcomer):
        await assess(limits, buyer, grade=3, pd="0.01", industry="retail")
    # Registered before the import: a relationship of today, on probation at 25 % of 240,000.
    before = await _limit(limits, established)
    assert before["relationship_since"] == TODAY.date().isoformat()
    probation = _following(before, "0.25")
    book = _book(established, newcomer, limited)

    response = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=book)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "accounts": {"created": 1, "unchanged": 0, "updated": 2},
        "invoices": {"created": 6, "unchanged": 0},
        "payments": {"created": 4, "unchanged": 0},
    }
    # Years of history: no probation, the full recommendation.
    settled = await _limit(limits, established)
    assert settled["relationship_since"] == SINCE_YEARS
    full = _following(settled, "1")
    assert abs(full * Decimal("0.25") - probation) <= Decimal("0.01")
    # Three months old: on probation, with credit for its two invoices paid on time (25 % + 2 x 15 %).
    young = await _limit(limits, newcomer)
    assert young["relationship_since"] == "2026-09-01" and abs(_following(young, "0.55") - full * Decimal("0.55")) <= Decimal("0.01")
    kept = await _limit(limits, limited)
    assert (money(kept["amount"]), kept["limit_source"], kept["relationship_since"]) == (Decimal("40000.00"), "manual", "2021-01-15")
    assert money((await limits.client.get(f"/v1/buyers/{limited}/exposure", headers=limits.auth("sales"))).json()["exposure"]) == Decimal("45000.00")
    assert await emitted(limits, "limit-breached", limited) == []
    # Every document went out once, as history, in date order.
    posted = await emitted(limits, "invoice-posted", established)
    assert [(e["invoice_id"], e["historical"]) for e in posted] == [(f"{established}-I1", True), (f"{established}-I2", True)]
    assert [(e["payment_id"], e["paid_on"], e["historical"]) for e in await emitted(limits, "payment-received", established)] == [
        (f"{established}-P1", "2026-08-30", True)
    ]
    # The established buyer's limit moved once for the whole book, not once per invoice paid on time.
    assert [money(e["new_amount"]) for e in await emitted(limits, "limit-changed", established)] == [probation, full]
    invoices = (await limits.client.get(f"/v1/buyers/{established}/invoices", headers=limits.auth("sales"))).json()
    assert [(i["invoice_id"], money(i["open_amount"])) for i in invoices] == [(f"{established}-I1", 0), (f"{established}-I2", Decimal("8000.00"))]

    # The same book again: nothing changes, nothing is published.
    published = await _outbox_size(limits)
    again = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=book)
    assert again.status_code == 200, again.text
    assert again.json() == {
        "accounts": {"created": 0, "unchanged": 3, "updated": 0},
        "invoices": {"created": 0, "unchanged": 6},
        "payments": {"created": 0, "unchanged": 4},
    }
    assert await _outbox_size(limits) == published


async def test_an_import_is_all_or_nothing_and_names_the_document_it_refuses(limits):
    established, newcomer, limited = new_buyer(), new_buyer(), new_buyer()
    book = _book(established, newcomer, limited)
    assert (await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=book)).status_code == 200
    published = await _outbox_size(limits)
    late_comer = new_buyer()
    changed = {
        "accounts": [{"buyer_id": late_comer, "relationship_since": SINCE_YEARS, "limit": None}],
        "invoices": [_invoice(late_comer, 1, "1000.00", issued_on="2026-10-01", due_on="2026-10-31"), book["invoices"][1] | {"amount": "12500.00"}],
        "payments": [],
    }

    refused = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=changed)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["document_id"] == f"{established}-I1" and problem["item"] == 1 and "amount" in problem["detail"]
    assert (await limits.client.get(f"/v1/invoices/{late_comer}-I1", headers=limits.auth("sales"))).status_code == 404
    assert (await limits.client.get(f"/v1/buyers/{late_comer}/limit", headers=limits.auth("sales"))).status_code == 404
    assert await _outbox_size(limits) == published

    unknown = await limits.client.post(
        "/v1/imports", headers=limits.auth("credit_manager"), json={"payments": [_payment(late_comer, 7, "10.00", paid_on="2026-10-02")]}
    )
    assert unknown.status_code == 422 and unknown.json()["document_id"] == f"{late_comer}-P7", unknown.text
    repeated = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json={"invoices": book["invoices"][:1] * 2})
    assert repeated.status_code == 422 and f"{established}-I2" in repeated.text, repeated.text
    assert (await limits.client.post("/v1/imports", headers=limits.auth("erp"), json=book)).status_code == 403

    # A limit a credit manager set by hand since is never overridden by re-running the import.
    await set_limit(limits, limited, "45000.00", terms=30)
    overridden = await limits.client.post("/v1/imports", headers=limits.auth("credit_manager"), json=book)
    assert overridden.status_code == 409 and overridden.json()["document_id"] == limited, overridden.text
    assert "amount" in overridden.json()["conflicting_fields"]
    assert money((await _limit(limits, limited))["amount"]) == Decimal("45000.00")


async def test_historical_documents_from_kafka_follow_the_policy_once_and_breach_nothing(limits_consuming, broker, eventually):
    """An ERP may publish its imported history straight to the topics: the same rules as the API."""
    from creditguard_shared.events.catalogue import topic_for
    from creditguard_shared.events.contracts import InvoicePostedV1, PaymentReceivedV1
    from creditguard_shared.events.envelope import new_event
    from tests.kafka_tools import publish_raw

    limits = limits_consuming
    buyer = new_buyer()
    await assess(limits, buyer, grade=3, pd="0.01", industry="retail")
    probation = _following(await _limit(limits, buyer), "0.25")
    documents = [
        InvoicePostedV1(
            invoice_id=f"{buyer}-I1",
            buyer_id=buyer,
            amount=Decimal("9000.00"),
            currency="EUR",
            issued_on=date(2026, 9, 1),
            due_on=date(2026, 10, 1),
            historical=True,
        ),
        PaymentReceivedV1(
            payment_id=f"{buyer}-P1",
            buyer_id=buyer,
            invoice_id=f"{buyer}-I1",
            amount=Decimal("9000.00"),
            currency="EUR",
            paid_on=date(2026, 9, 30),
            historical=True,
        ),
        # Above the limit: the position shows it, but history is no breach.
        InvoicePostedV1(
            invoice_id=f"{buyer}-I2",
            buyer_id=buyer,
            amount=Decimal("99000.00"),
            currency="EUR",
            issued_on=date(2026, 11, 20),
            due_on=date(2026, 12, 20),
            historical=True,
        ),
    ]
    for document in documents:
        envelope = new_event(source="/erp/test", payload=document, subject=buyer)
        await publish_raw(broker.bootstrap_servers, topic_for(type(document)).name, [(buyer.encode(), envelope.to_bytes(), [])])

    async def applied() -> None:
        body = (await limits.client.get(f"/v1/buyers/{buyer}/exposure", headers=limits.auth("sales"))).json()
        assert money(body["exposure"]) == Decimal("99000.00"), body
        # One invoice paid on time: 25 % + 15 % of the recommendation.
        assert abs(_following(await _limit(limits, buyer), "0.40") - probation / Decimal("0.25") * Decimal("0.40")) <= Decimal("0.02")

    await eventually(applied, timeout=60)
    assert await emitted(limits, "limit-breached", buyer) == []
