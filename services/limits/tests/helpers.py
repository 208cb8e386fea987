"""Request helpers shared by the limits tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import overload

from creditguard_shared.clock import Clock
from services.limits.tests.conftest import TODAY


def new_buyer() -> str:
    return f"B-{uuid.uuid4().hex[:10]}"


async def start_limits_with_policy(start_service, databases, broker, policy_file: Path):
    """The limits service on a fresh database, consumers off, under a policy file of the test's own."""
    return await start_service(
        "limits",
        database_url=await databases.create("limits"),
        bootstrap_servers=broker.bootstrap_servers,
        clock=Clock(fixed=TODAY),
        consumers_enabled=False,
        policy_file=str(policy_file),
    )


async def set_limit(service, buyer_id: str, amount: str, *, currency: str = "EUR", terms: int = 60, review_on: str | None = "2027-06-30") -> dict:
    response = await service.client.put(
        f"/v1/buyers/{buyer_id}/limit",
        headers=service.auth("credit_manager"),
        json={
            "amount": amount,
            "currency": currency,
            "payment_terms_days": terms,
            "review_on": review_on,
            "reason": "annual review",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def check(service, buyer_id: str, order_id: str, amount: str, *, currency: str = "EUR", terms: int = 30, expect: int | None = None) -> dict:
    response = await service.client.post(
        "/v1/credit-checks",
        headers=service.auth("erp"),
        json={
            "buyer_id": buyer_id,
            "order_id": order_id,
            "amount": amount,
            "currency": currency,
            "payment_terms_days": terms,
        },
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    assert response.status_code in (200, 201), response.text
    return response.json()


async def post_invoice(
    service,
    buyer_id: str,
    invoice_id: str,
    amount: str,
    *,
    due_on: str = "2027-01-31",
    issued_on: str = "2026-11-01",
    currency: str = "EUR",
    order_id: str | None = None,
) -> dict:
    body = {"invoice_id": invoice_id, "buyer_id": buyer_id, "amount": amount, "currency": currency, "issued_on": issued_on, "due_on": due_on}
    if order_id:
        body["order_id"] = order_id
    response = await service.client.post("/v1/invoices", headers=service.auth("erp"), json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def exposure(service, buyer_id: str) -> dict:
    response = await service.client.get(f"/v1/buyers/{buyer_id}/exposure", headers=service.auth("sales"))
    assert response.status_code == 200, response.text
    return response.json()


def codes(decision: dict) -> set[str]:
    return {r["code"] for r in decision["reasons"]}


@overload
def money(value: str) -> Decimal: ...
@overload
def money(value: None) -> None: ...
def money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def emitted(service, topic: str, buyer_id: str) -> list[dict]:
    """The events the service committed for a buyer on a topic, in order, from its outbox (what
    the relay publishes; the relay itself is covered by the backbone tests)."""
    import json

    from sqlalchemy import text

    async with service.runtime.engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT payload FROM outbox_events WHERE topic = :t AND message_key = :k ORDER BY seq"), {"t": topic, "k": buyer_id})
        ).scalars()
        return [json.loads(row)["data"] for row in rows]


async def assess(service, buyer_id: str, *, grade: int, pd: str, equity: str = "2000000", sales: str = "9000000", industry: str = "C25") -> dict:
    """The buyer's assessment as scoring's buyer-assessed would bring it; answers the limit it leads to."""
    from creditguard_limits.accounts import service as accounts_service
    from creditguard_shared.events.contracts import BuyerAssessedV1

    async with service.runtime.uow_factory() as uow:
        await accounts_service.record_assessment(
            uow,
            context=service.app.state.limits,
            assessment=BuyerAssessedV1(
                buyer_id=buyer_id,
                assessment_id=f"A-{buyer_id}",
                assessed_at=datetime(2026, 11, 30, tzinfo=UTC),
                model_version="m1",
                pd=float(pd),
                grade=grade,
                risk_class="medium",
                country="DE",
                industry=industry,
                financial_data_missing=False,
                equity=Decimal(equity),
                sales=Decimal(sales),
                statement_currency="EUR",
            ),
        )
        await uow.commit()
    response = await service.client.get(f"/v1/buyers/{buyer_id}/limit", headers=service.auth("credit_manager"))
    assert response.status_code == 200, response.text
    return response.json()
