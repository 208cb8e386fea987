"""Event builders for the alerts tests: what limits and scoring would publish."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from creditguard_shared.events.contracts import BuyerAssessedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1
from tests.kafka_tools import publish_event


def new_buyer() -> str:
    return f"B-{uuid.uuid4().hex[:10]}"


def assessed(buyer_id: str, *, owner: str = "anna.sales", risk_class: str = "medium", industry: str = "machinery") -> BuyerAssessedV1:
    return BuyerAssessedV1(
        buyer_id=buyer_id,
        assessment_id=f"A-{uuid.uuid4().hex[:8]}",
        assessed_at=datetime(2026, 9, 1, tzinfo=UTC),
        model_version="test",
        pd=0.02,
        grade=4,
        risk_class=risk_class,
        name=f"{buyer_id} GmbH",
        country="DE",
        industry=industry,
        account_owner=owner,
        financial_data_missing=False,
    )


def invoice(buyer_id: str, invoice_id: str, *, amount: str = "5000.00", due_on: date = date(2026, 10, 1)) -> InvoicePostedV1:
    return InvoicePostedV1(invoice_id=invoice_id, buyer_id=buyer_id, amount=Decimal(amount), currency="EUR", issued_on=date(2026, 9, 1), due_on=due_on)


def late(buyer_id: str, invoice_id: str, *, days: int, bucket: int, open_amount: str = "5000.00", due_on: date = date(2026, 10, 1)) -> PaymentLateV1:
    return PaymentLateV1(
        invoice_id=invoice_id,
        buyer_id=buyer_id,
        days_past_due=days,
        bucket=bucket,
        open_amount=Decimal(open_amount),
        currency="EUR",
        due_on=due_on,
        as_of=date.fromordinal(due_on.toordinal() + days),
    )


def paid(buyer_id: str, invoice_id: str, *, amount: str, payment_id: str | None = None) -> PaymentReceivedV1:
    return PaymentReceivedV1(
        payment_id=payment_id or f"P-{uuid.uuid4().hex[:8]}",
        buyer_id=buyer_id,
        invoice_id=invoice_id,
        amount=Decimal(amount),
        currency="EUR",
        paid_on=date(2026, 11, 5),
    )


async def publish_assessments(service, bootstrap_servers: str, *events: BuyerAssessedV1) -> None:
    """Publish and wait until alerts knows the buyers (reference data comes on another consumer than invoices)."""
    for event in events:
        await publish_event(bootstrap_servers, event, subject=event.buyer_id)
    for event in events:
        await eventually_known(service, event.buyer_id)


async def eventually_known(service, buyer_id: str, *, timeout: float = 20.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await service.client.get(f"/v1/buyers/{buyer_id}/profile", headers=service.auth("sales"))
        if response.status_code == 200 or asyncio.get_running_loop().time() > deadline:
            assert response.status_code == 200, response.text
            return response.json()
        await asyncio.sleep(0.1)
