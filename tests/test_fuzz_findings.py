"""What the OpenAPI fuzzer (tests/test_api_fuzz.py) found, pinned down on both databases: each
answer is one the document describes, as a problem+json where it is an error."""

from __future__ import annotations

import json

import pytest

from creditguard_shared.schema_types import MAX_OFFSET

PROBLEM = "application/problem+json"
UNSTORABLE = "text with a NUL character or a lone surrogate, which cannot be stored"


def refused(response) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


@pytest.fixture
async def scoring(start_service, databases, broker):
    return await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


@pytest.fixture
async def limits(start_service, databases, broker):
    return await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


@pytest.fixture
async def alerts(start_service, databases, broker):
    return await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


async def test_a_body_that_is_not_json_in_utf8_is_a_422_problem_like_malformed_json(scoring):
    headers = {**scoring.auth("credit_manager"), "content-type": "application/json"}
    # Not UTF-8, nested deeper than the parser recurses, and (as before) malformed: the same answer.
    for body in (b'{"name": "\xff\xfe GmbH", "country": "DE"}', b"[" * 100_000, b'{"name": '):
        response = await scoring.client.put("/v1/buyers/B-BYTES", content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["errors"][0]["location"] == "body" and problem["errors"][0]["type"] == "json_invalid", problem
    assert (await scoring.client.get("/v1/buyers/B-BYTES", headers=scoring.auth("admin"))).status_code == 404


async def test_creates_that_may_be_sent_again_document_both_201_and_200(scoring, limits, alerts):
    both = [
        (scoring, [("put", "/v1/buyers/{buyer_id}"), ("post", "/v1/buyers/{buyer_id}/adverse-events"), ("post", "/v1/buyers/{buyer_id}/financial-statements")]),
        (limits, [("post", "/v1/credit-checks"), ("post", "/v1/invoices"), ("post", "/v1/payments"), ("post", "/v1/credit-notes")]),
        (alerts, [("put", "/v1/collections/strategies/{strategy_id}")]),
    ]
    for service, operations in both:
        paths = (await service.client.get("/openapi.json")).json()["paths"]
        for method, path in operations:
            responses = paths[path][method]["responses"]
            assert {"200", "201"} <= set(responses), (service.name, method, path, sorted(responses))
            assert responses["200"]["content"]["application/json"]["schema"] == responses["201"]["content"]["application/json"]["schema"]
    # And they do answer both: a strategy is created (201), then replaced (200).
    strategy = {"id": "s-twice", "name": "Twice", "levels": [{"level": "friendly_reminder", "days_past_due": 1}]}
    for expected in (201, 200):
        response = await alerts.client.put("/v1/collections/strategies/s-twice", json=strategy, headers=alerts.auth("admin"))
        assert response.status_code == expected, response.text


async def test_text_with_a_nul_or_a_lone_surrogate_is_a_422_problem_on_every_database(scoring, limits):
    # PostgreSQL refused the NUL with an error the service answered as a 500; UTF-8 cannot encode the surrogate.
    write = scoring.auth("credit_manager")
    for name in ("Nul\u0000 GmbH", "Half \ud800 GmbH"):
        body = json.dumps({"name": name, "country": "DE"}).encode()  # ensure_ascii: the JSON escapes, as a client sends them
        response = await scoring.client.put("/v1/buyers/B-TEXT", content=body, headers={**write, "content-type": "application/json"})
        problem = refused(response)
        assert problem["errors"] == [{"field": "name", "location": "body", "message": UNSTORABLE, "type": "string_unstorable"}], problem
    assert (await scoring.client.get("/v1/buyers/B-TEXT", headers=write)).status_code == 404
    for params in ({"q": "a\u0000b"}, {"account_owner": "\u0000"}):
        problem = refused(await scoring.client.get("/v1/buyers", params=params, headers=write))
        assert problem["errors"][0]["location"] == "query" and problem["errors"][0]["field"] in params, problem
    # Deep in a batch, the field is named by its place.
    batch = {
        "invoices": [
            {"invoice_id": "I-T1", "buyer_id": "B-T", "amount": "1.00", "currency": "EUR", "issued_on": "2026-11-01", "due_on": "2026-12-01"},
            {"invoice_id": "I-T2\u0000"},
        ]
    }
    problem = refused(await limits.client.post("/v1/invoices/batch", json=batch, headers=limits.auth("erp")))
    assert [e["field"] for e in problem["errors"]] == ["invoices.1.invoice_id"], problem
    # Text without either is untouched, escapes and all.
    accepted = await scoring.client.put("/v1/buyers/B-TEXT", json={"name": "Zürich \u00e9\U0001f600 AG", "country": "CH"}, headers=write)
    assert accepted.status_code == 201 and accepted.json()["name"] == "Zürich é\U0001f600 AG", accepted.text


async def test_every_offset_has_the_documented_maximum(alerts):
    # Buyer profiles took any offset: one past 2^63 reached the database, which cannot hold it (a 500).
    huge = "9223372036854775808"
    problem = refused(await alerts.client.get("/v1/buyer-profiles", params={"offset": huge}, headers=alerts.auth("admin")))
    assert [e["field"] for e in problem["errors"]] == ["offset"], problem
    document = (await alerts.client.get("/openapi.json")).json()
    offsets = [
        (path, parameter["schema"])
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "offset"
    ]
    assert offsets and all(schema.get("maximum") == MAX_OFFSET for _, schema in offsets), offsets
