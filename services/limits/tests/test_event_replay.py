"""Ledger documents and hold requests from Kafka; replaying every event twice changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditguard_shared.events.catalogue import topic_for
from creditguard_shared.events.contracts import AccountHoldRequestedV1, CreditNoteIssuedV1, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.events.envelope import new_event
from services.limits.tests.helpers import exposure, money, new_buyer, post_invoice, set_limit
from tests.kafka_tools import publish_raw


async def test_replaying_all_events_twice_keeps_the_ledger_consistent(limits_consuming, broker, eventually):
    limits = limits_consuming
    buyer = new_buyer()
    await set_limit(limits, buyer, "50000.00")
    documents = [
        InvoicePostedV1(
            invoice_id=f"{buyer}-I1", buyer_id=buyer, amount=Decimal("10000.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 11, 15)
        ),
        InvoicePostedV1(
            invoice_id=f"{buyer}-I2", buyer_id=buyer, amount=Decimal("4000.00"), currency="EUR", issued_on=date(2026, 11, 1), due_on=date(2026, 12, 31)
        ),
        PaymentReceivedV1(
            payment_id=f"{buyer}-P1", buyer_id=buyer, invoice_id=f"{buyer}-I1", amount=Decimal("2500.00"), currency="EUR", paid_on=date(2026, 11, 20)
        ),
        CreditNoteIssuedV1(
            credit_note_id=f"{buyer}-C1", buyer_id=buyer, invoice_id=f"{buyer}-I2", amount=Decimal("1000.00"), currency="EUR", issued_on=date(2026, 11, 21)
        ),
        AccountHoldRequestedV1(buyer_id=buyer, hold=True, reason="promise to pay broken", case_id="CASE-1"),
    ]
    envelopes = [new_event(source="/erp/test", payload=d, subject=buyer) for d in documents]
    for _ in range(2):  # the same events, then the same documents again under new event ids
        for envelope, document in zip(envelopes, documents, strict=True):
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


async def test_assessments_from_kafka_set_policy_limits_batch_by_batch(limits_consuming, broker, eventually):
    """buyer-assessed over the broker, several at once (the consumer reads the batch's accounts
    ahead): a known buyer with an open invoice, a new buyer, and an older assessment after a newer."""
    from datetime import UTC, datetime

    from creditguard_shared.events.contracts import BuyerAssessedV1
    from services.limits.tests.helpers import emitted

    limits = limits_consuming
    known, new = new_buyer(), new_buyer()

    def assessed(buyer_id: str, *, grade: int, hour: int) -> BuyerAssessedV1:
        return BuyerAssessedV1(
            buyer_id=buyer_id,
            assessment_id=f"A-{buyer_id}-{hour}",
            assessed_at=datetime(2026, 11, 30, hour, tzinfo=UTC),
            model_version="m1",
            pd=0.01 * grade,
            grade=grade,
            risk_class="low",
            country="DE",
            industry="retail",
            financial_data_missing=False,
            equity=Decimal("2000000"),
            sales=Decimal("9000000"),
            statement_currency="EUR",
        )

    async def publish(*assessments: BuyerAssessedV1) -> None:
        await publish_raw(
            broker.bootstrap_servers,
            "buyer-assessed",
            [(a.buyer_id.encode(), new_event(source="/scoring", payload=a, subject=a.buyer_id).to_bytes(), []) for a in assessments],
        )

    async def grade_of(buyer_id: str) -> int | None:
        response = await limits.client.get(f"/v1/buyers/{buyer_id}/limit", headers=limits.auth("sales"))
        return response.json()["grade"] if response.status_code == 200 else None

    await publish(assessed(known, grade=2, hour=8))

    async def known_graded():
        assert await grade_of(known) == 2

    await eventually(known_graded, timeout=60)
    await post_invoice(limits, known, f"{known}-I1", "1000.00")
    await publish(assessed(known, grade=3, hour=10), assessed(new, grade=4, hour=10), assessed(known, grade=5, hour=9))

    async def both_graded():
        assert (await grade_of(known), await grade_of(new)) == (3, 4)
        latest = (await emitted(limits, "exposure-changed", known))[-1]
        assert (money(latest["open_invoices"]), money(latest["exposure"])) == (Decimal("1000.00"), Decimal("1000.00"))
        limit = (await limits.client.get(f"/v1/buyers/{known}/limit", headers=limits.auth("sales"))).json()
        assert limit["limit_source"] == "policy" and money(latest["limit"]) == money(limit["amount"])

    await eventually(both_graded, timeout=60)
