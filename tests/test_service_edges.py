"""Every service: health, metrics, OpenAPI, and 401/403/404/422 as RFC 9457 problems."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"

# A protected write per service, a body it rejects, and a role that may not call it.
WRITES = {
    "limits": (
        "/v1/invoices",
        {"invoice_id": "I-1", "buyer_id": "B-1", "amount": "not-money", "currency": "EUR", "issued_on": "2026-01-01", "due_on": "2026-02-01"},
        "sales",
    ),
}
READS = {
    "scoring": "/v1/buyers/B-1/payment-behaviour",
    "limits": "/v1/buyers/B-1/invoices",
    "alerts": "/v1/buyers/B-1/receivables",
}


@pytest.fixture(params=["scoring", "limits", "alerts"])
async def service(request, start_service, databases, broker):
    url = await databases.create(request.param)
    # Consumers are not what these tests look at; leaving them off keeps group joins out of the run.
    return await start_service(request.param, database_url=url, bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)


async def test_health_metrics_and_openapi(service):
    assert (await service.client.get("/health/live")).json() == {"status": "ok"}
    ready = await service.client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    # Readiness is the database's answer alone; the broker is a detail.
    assert ready.json()["checks"] == {"database": True}
    details = (await service.client.get("/health/details")).json()
    assert details["database"] == {"ok": True, "error": None}
    assert details["outbox"]["pending"] == 0 and details["outbox"]["retention_days"] == 7.0
    # Swagger UI and ReDoc load their files from the service itself, never from a CDN.
    for page, asset in (("/docs", "/docs-assets/swagger-ui-bundle.js"), ("/redoc", "/docs-assets/redoc.standalone.js")):
        html = (await service.client.get(page)).text
        assert asset in html and "cdn" not in html.lower() and "https://" not in html.split("<body>")[-1].split("</script>")[0]
        served = await service.client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100_000
    assert (await service.client.get("/openapi.json")).json()["info"]["title"] == f"creditguard {service.name}"
    await service.client.get(READS[service.name], headers=service.auth("credit_manager"))
    metrics = (await service.client.get("/metrics")).text
    route = READS[service.name].replace("B-1", "{buyer_id}")
    assert f'route="{route}"' in metrics
    assert "B-1" not in metrics  # labelled by template, never by buyer id
    assert "creditguard_outbox_pending_events" in metrics


async def test_missing_and_invalid_keys_are_401(service):
    response = await service.client.get(READS[service.name])
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    response = await service.client.get(READS[service.name], headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is not valid."


async def test_read_roles(service):
    for role in ("sales", "credit_manager", "admin"):
        response = await service.client.get(READS[service.name], headers=service.auth(role))
        assert response.status_code == 200, (role, response.text)


async def test_wrong_role_is_403_and_bad_input_is_422(service):
    if service.name not in WRITES:
        # Read endpoints refuse the erp role where it has no business reading.
        response = await service.client.get(READS[service.name], headers=service.auth("erp"))
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM
        return
    path, bad_body, forbidden_role = WRITES[service.name]
    response = await service.client.post(path, json=bad_body, headers=service.auth(forbidden_role))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 403
    response = await service.client.post(path, json=bad_body, headers=service.auth("erp"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"][0]["field"] == "amount"
    response = await service.client.post(path, content=b"{not json", headers={**service.auth("erp"), "content-type": "application/json"})
    assert response.status_code == 422


async def test_unknown_route_and_resource_are_404(service):
    response = await service.client.get("/v1/nothing-here", headers=service.auth("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    if service.name == "limits":
        response = await service.client.get("/v1/invoices/NOPE", headers=service.auth("sales"))
        assert response.status_code == 404
        assert response.json()["detail"] == "Invoice NOPE not found."
