"""Bad input is refused with a 422 problem and stores nothing, on both databases: integers no
column holds, amounts above the documented maximum, ids outside their character set, dates that
are not ISO strings or cannot be right against the service's clock, unknown currencies, credit
notes above what is open. Amounts come back as plain decimals with two places."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from creditguard_shared.clock import Clock
from creditguard_shared.schema_types import MAX_AMOUNT

PROBLEM = "application/problem+json"
TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HUGE = "9223372036854775808"  # 2^63: no BIGINT holds it


def refused(response, field: str | None = None) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    if field is not None:
        assert field in {e["field"] for e in problem.get("errors", [])} or problem.get("field") == field, problem
    return problem


@pytest.fixture
async def limits(start_service, databases, broker):
    return await start_service(
        "limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=TODAY), consumers_enabled=False
    )


@pytest.fixture
async def scoring(start_service, databases, broker):
    return await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


@pytest.fixture
async def alerts(start_service, databases, broker):
    return await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


def invoice(
    invoice_id: str,
    *,
    amount: object = "100.00",
    issued_on: object = "2026-11-01",
    due_on: object = "2026-12-31",
    currency: str = "EUR",
    buyer_id: str = "B-IN-1",
) -> dict:
    return {"invoice_id": invoice_id, "buyer_id": buyer_id, "amount": amount, "currency": currency, "issued_on": issued_on, "due_on": due_on}


async def post(service, path: str, body: dict):
    return await service.client.post(path, json=body, headers=service.auth("erp"))


async def test_integers_no_database_holds_are_refused(scoring, alerts):
    for service, path in (
        (scoring, "/v1/buyers"),
        (scoring, "/v1/buyers/B-1/assessments"),
        (alerts, "/v1/alerts"),
        (alerts, "/v1/collections/cases"),
        (alerts, "/v1/collections/actions"),
    ):
        refused(await service.client.get(path, params={"offset": HUGE}, headers=service.auth("admin")), "offset")
    rules = (await alerts.client.get("/v1/alert-rules", headers=alerts.auth("admin"))).json()
    rule_id = rules[0]["id"]
    refused(
        await alerts.client.patch(f"/v1/alert-rules/{rule_id}", json={"cooldown_seconds": 18446744073709551617}, headers=alerts.auth("admin")),
        "cooldown_seconds",
    )
    after = (await alerts.client.get("/v1/alert-rules", headers=alerts.auth("admin"))).json()
    assert next(r for r in after if r["id"] == rule_id) == rules[0]


async def test_amounts_have_a_maximum_and_come_back_as_plain_decimals(limits):
    refused(await post(limits, "/v1/invoices", invoice("I-HUGE", amount="9999999999999999.99")), "amount")
    check = {"buyer_id": "B-IN-1", "order_id": "O-HUGE", "amount": "9999999999999999.99", "currency": "EUR", "payment_terms_days": 30}
    refused(await post(limits, "/v1/credit-checks", check), "amount")
    # The maximum itself fits every column, total and event, on both databases.
    largest = await post(limits, "/v1/invoices", invoice("I-MAX", amount=str(MAX_AMOUNT)))
    assert largest.status_code == 201, largest.text
    assert largest.json()["amount"] == "999999999999.99"
    biggest_check = await post(limits, "/v1/credit-checks", {**check, "order_id": "O-MAX", "amount": str(MAX_AMOUNT)})
    assert biggest_check.status_code == 201, biggest_check.text
    # A JSON number in exponent form is money; a string must be a plain decimal.
    thousand = await post(limits, "/v1/invoices", invoice("I-1E3", amount=1e3))
    assert thousand.status_code == 201 and thousand.json()["amount"] == "1000.00", thousand.text
    for bad in ("1e3", "", " 5", "12.345", "0", "-5"):
        refused(await post(limits, "/v1/invoices", invoice("I-BAD", amount=bad)), "amount")
    assert (await limits.client.get("/v1/invoices/I-BAD", headers=limits.auth("admin"))).status_code == 404


async def test_ids_keep_to_their_character_set(limits, scoring):
    for bad in ("X\u0000y", "a/b", "with space", "", "x" * 65, "-leading"):
        refused(await post(limits, "/v1/invoices", invoice(bad)), "invoice_id")
    refused(await scoring.client.put("/v1/buyers/B%00X", json={"name": "Nul GmbH", "country": "DE"}, headers=scoring.auth("credit_manager")))
    ok = await post(limits, "/v1/invoices", invoice("INV-2026.11:0001_a@erp"))
    assert ok.status_code == 201, ok.text


async def test_dates_are_iso_strings_and_plausible(limits, scoring):
    for bad in (0, "0", -3.6e-292, "2026-11-01T00:00:00", "01.11.2026", "0001-01-01"):
        refused(await post(limits, "/v1/invoices", invoice("I-DATE", issued_on=bad)), "issued_on")
    for bad in (-3.6e-292, 0, "1700000000"):
        refused(
            await scoring.client.put(
                "/v1/buyers/B-DATE", json={"name": "Dated GmbH", "country": "DE", "founded_on": bad}, headers=scoring.auth("credit_manager")
            ),
            "founded_on",
        )
    # Against the service's clock (2026-12-01): a week ahead is an invoice run; 2030 is a typo.
    refused(await post(limits, "/v1/invoices", invoice("I-2030", issued_on="2030-01-01", due_on="2030-03-01")), "issued_on")
    refused(await post(limits, "/v1/invoices", invoice("I-DUE", due_on="2026-10-01")))
    refused(await post(limits, "/v1/invoices", invoice("I-TERMS", due_on="2029-01-01")), "due_on")
    assert (await post(limits, "/v1/invoices", invoice("I-NEXT-WEEK", issued_on="2026-12-08", due_on="2027-01-31"))).status_code == 201
    assert (await post(limits, "/v1/invoices", invoice("I-PAID", issued_on="2026-11-01"))).status_code == 201
    payment = {"payment_id": "P-1", "buyer_id": "B-IN-1", "invoice_id": "I-PAID", "amount": "50.00", "currency": "EUR"}
    refused(await post(limits, "/v1/payments", {**payment, "paid_on": "2026-12-05"}), "paid_on")  # in the future
    refused(await post(limits, "/v1/payments", {**payment, "paid_on": "2024-01-01"}), "paid_on")  # before the invoice
    accepted = await post(limits, "/v1/payments", {**payment, "paid_on": "2026-11-20"})
    assert accepted.status_code == 201, accepted.text


async def test_currencies_are_iso_4217(limits):
    problem = refused(await post(limits, "/v1/invoices", invoice("I-XYZ", currency="XYZ")), "currency")
    assert "XYZ is not an ISO 4217 currency code" in problem["detail"]


async def test_a_credit_note_above_what_is_open_is_refused_and_a_changed_resend_is_a_conflict(limits):
    assert (await post(limits, "/v1/invoices", invoice("I-CN", amount="46000.00"))).status_code == 201
    payment = {"payment_id": "P-CN", "buyer_id": "B-IN-1", "invoice_id": "I-CN", "amount": "40000.00", "currency": "EUR", "paid_on": "2026-11-20"}
    assert (await post(limits, "/v1/payments", payment)).status_code == 201
    note = {"credit_note_id": "CN-1", "buyer_id": "B-IN-1", "invoice_id": "I-CN", "amount": "1000000.00", "currency": "EUR", "issued_on": "2026-11-25"}
    problem = refused(await post(limits, "/v1/credit-notes", note), "amount")
    assert "6000.00 still open" in problem["detail"]
    assert (await post(limits, "/v1/credit-notes", {**note, "amount": "6000.00"})).status_code == 201
    opened = (await limits.client.get("/v1/invoices/I-CN", headers=limits.auth("admin"))).json()
    assert opened["open_amount"] == "0.00"
    # The same ids with other amounts: 409, naming what differs, for every kind of document.
    for path, body in (
        ("/v1/invoices", invoice("I-CN", amount="46000.01")),
        ("/v1/payments", {**payment, "amount": "39999.99"}),
        ("/v1/credit-notes", {**note, "amount": "5999.99"}),
    ):
        conflict = await post(limits, path, body)
        assert conflict.status_code == 409 and conflict.headers["content-type"] == PROBLEM, conflict.text
        assert conflict.json()["conflicting_fields"] == ["amount"]


async def test_timestamps_are_utc_with_an_offset_on_every_database(limits, scoring):
    def aware(text: str) -> bool:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).utcoffset() is not None

    decision = await post(limits, "/v1/credit-checks", {"buyer_id": "B-TZ", "order_id": "O-TZ", "amount": "10.00", "currency": "EUR", "payment_terms_days": 30})
    assert decision.status_code == 201 and aware(decision.json()["created_at"]), decision.text
    stored = (await limits.client.get(f"/v1/credit-checks/{decision.json()['id']}", headers=limits.auth("admin"))).json()
    assert aware(stored["created_at"]), stored["created_at"]
    await scoring.client.put("/v1/buyers/B-TZ", json={"name": "Zeit GmbH", "country": "DE"}, headers=scoring.auth("credit_manager"))
    buyer = (await scoring.client.get("/v1/buyers/B-TZ", headers=scoring.auth("admin"))).json()
    assert aware(buyer["created_at"]) and aware(buyer["updated_at"]), buyer


async def test_the_openapi_document_describes_amounts_and_every_error_as_a_problem(limits):
    document = (await limits.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    amount = schemas["InvoiceIn"]["properties"]["amount"]
    # What the service accepts, so a client (or a fuzzer) does not send "" or "1e3" as money.
    assert {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"} in amount["anyOf"]
    assert {"type": "number", "exclusiveMinimum": 0, "maximum": 999999999999.99, "multipleOf": 0.01} in amount["anyOf"]
    post_invoice = document["paths"]["/v1/invoices"]["post"]["responses"]
    assert {"401", "403", "409", "422"} <= set(post_invoice)
    assert list(post_invoice["422"]["content"]) == [PROBLEM]
    assert set(document["paths"]["/v1/invoices/{invoice_id}"]["get"]["responses"]) >= {"401", "403", "404", "422"}
    assert "HTTPValidationError" not in schemas and "Problem" in schemas


async def test_a_currency_without_a_rate_is_refused_and_never_takes_the_book_down(limits):
    for path, body in (
        ("/v1/buyers/B-FX/limit", {"amount": "1000.00", "currency": "CHF", "payment_terms_days": 30, "reason": "new"}),
        ("/v1/groups/G-FX/limit", {"amount": "1000.00", "currency": "CHF", "reason": "new"}),
    ):
        problem = refused(await limits.client.put(path, json=body, headers=limits.auth("credit_manager")), "currency")
        assert "No exchange rate for CHF" in problem["detail"]
    # A row that cannot be converted (a rate removed behind the service's back, a row from before
    # this rule) is left out of book-wide figures and listed, not a failure of the whole book.
    assert (await limits.client.put("/v1/fx-rates/CHF", json={"rate": "1.05"}, headers=limits.auth("admin"))).status_code == 200
    for buyer in ("B-FX", "B-EUR"):
        currency = "CHF" if buyer == "B-FX" else "EUR"
        limit = {"amount": "1000.00", "currency": currency, "payment_terms_days": 30, "reason": "new"}
        assert (await limits.client.put(f"/v1/buyers/{buyer}/limit", json=limit, headers=limits.auth("credit_manager"))).status_code == 200
        assert (await post(limits, "/v1/invoices", invoice(f"I-{buyer}", buyer_id=buyer, currency=currency))).status_code == 201
    async with limits.runtime.uow_factory() as uow:
        from sqlalchemy import text

        await uow.session.execute(text("DELETE FROM fx_rates WHERE currency = 'CHF'"))
        await uow.commit()
    portfolio = await limits.client.get("/v1/portfolio", headers=limits.auth("admin"))
    assert portfolio.status_code == 200, portfolio.text
    assert portfolio.json()["unconverted_buyers"] == ["B-FX"] and portfolio.json()["total_exposure"] == "100.00"
    forecast = await limits.client.get("/v1/forecast/cash-in", headers=limits.auth("admin"))
    assert forecast.status_code == 200 and forecast.json()["unconverted_buyers"] == ["B-FX"], forecast.text
