"""What the OpenAPI fuzzer (tests/test_api_fuzz.py) found, pinned down on both databases: each
answer is one the document describes, as a problem+json where it is an error."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture
async def scoring(start_service, databases, broker):
    return await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers,
                               consumers_enabled=False)


@pytest.fixture
async def limits(start_service, databases, broker):
    return await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers,
                               consumers_enabled=False)


@pytest.fixture
async def alerts(start_service, databases, broker):
    return await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers,
                               consumers_enabled=False)


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
        (scoring, [("put", "/v1/buyers/{buyer_id}"), ("post", "/v1/buyers/{buyer_id}/adverse-events"),
                  ("post", "/v1/buyers/{buyer_id}/financial-statements")]),
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
