"""Ledger documents and hold requests from Kafka; replaying every event twice changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditguard_shared.events.contracts import AccountHoldRequestedV1, CreditNoteIssuedV1, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.events.envelope import new_event
from creditguard_shared.events.catalogue import topic_for
from services.limits.tests.helpers import exposure, money, new_buyer, post_invoice, set_limit
from tests.kafka_tools import publish_raw


async def test_replaying_all_events_twice_keeps_the_ledger_consistent(limits_consuming, broker, eventually):
    limits = limits_consuming
    buyer = new_buyer()
    await set_limit(limits, buyer, "50000.00")
    documents = [
        InvoicePostedV1(invoice_id=f"{buyer}-I1", buyer_id=buyer, amount=Decimal("10000.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 11, 15)),
        InvoicePostedV1(invoice_id=f"{buyer}-I2", buyer_id=buyer, amount=Decimal("4000.00"), currency="EUR", issued_on=date(2026, 11, 1), due_on=date(2026, 12, 31)),
        PaymentReceivedV1(payment_id=f"{buyer}-P1", buyer_id=buyer, invoice_id=f"{buyer}-I1", amount=Decimal("2500.00"), currency="EUR", paid_on=date(2026, 11, 20)),
        CreditNoteIssuedV1(credit_note_id=f"{buyer}-C1", buyer_id=buyer, invoice_id=f"{buyer}-I2", amount=Decimal("1000.00"), currency="EUR", issued_on=date(2026, 11, 21)),
        AccountHoldRequestedV1(buyer_id=buyer, hold=True, reason="promise to pay broken", case_id="CASE-1"),
    ]
    envelopes = [new_event(source="/erp/test", payload=d, subject=buyer) for d in documents]
    for _ in range(2):  # the same events, then the same documents again under new event ids
        for envelope, document in zip(envelopes, documents):
            await publish_raw(broker.bootstrap_servers, topic_for(type(document)).name, [(buyer.encode(), envelope.to_bytes(), [])])
        envelopes = [new_event(source="/erp/test", payload=d, subject=buyer) for d in documents]

    async def settled():
        body = await exposure(limits, buyer)
        assert money(body["open_invoices"]) == Decimal("10500.00"), body
        assert money(body["overdue_by_bucket"]["16-30"]) == Decimal("7500.00"), body
        assert body["status"] == "on_hold"

    await eventually(settled, timeout=60)
    invoices = (await limits.client.get(f"/v1/buyers/{buyer}/invoices", headers=limits.auth("sales"))).json()
    assert [(i["invoice_id"], i["open_amount"]) for i in invoices] == [(f"{buyer}-I1", "7500.00"), (f"{buyer}-I2", "3000.00")]
    release = new_event(source="/alerts", payload=AccountHoldRequestedV1(buyer_id=buyer, hold=False, reason="paid", case_id="CASE-1"), subject=buyer)
    await publish_raw(broker.bootstrap_servers, "account-hold-requested", [(buyer.encode(), release.to_bytes(), [])])

    async def released():
        assert (await exposure(limits, buyer))["status"] == "active"

    await eventually(released, timeout=60)


async def test_documents_posted_through_rest_come_back_from_kafka_and_are_ignored(limits_consuming, eventually):
    """REST publishes the invoice and payment on the topics ERPs also use; the service's own copies
    are skipped (they took effect with the REST call) and the exposure counts them once."""
    limits = limits_consuming
    buyer = new_buyer()
    await set_limit(limits, buyer, "50000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "8000.00")
    payment = {"payment_id": f"{buyer}-P1", "buyer_id": buyer, "invoice_id": f"{buyer}-I1", "amount": "3000.00", "currency": "EUR", "paid_on": "2026-11-20"}
    assert (await limits.client.post("/v1/payments", json=payment, headers=limits.auth("erp"))).status_code == 201

    async def ignored():
        assert limits.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="ignored") == 1
        assert limits.metric("creditguard_events_consumed_total", topic="payment-received", outcome="ignored") == 1

    await eventually(ignored, timeout=60)
    assert limits.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="processed") == 0
    assert money((await exposure(limits, buyer))["open_invoices"]) == Decimal("5000.00")
