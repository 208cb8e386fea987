"""The event backbone against the real broker and both databases: the outbox survives a broker
outage, duplicates are harmless, poison messages are dead-lettered and the consumer moves on."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from creditguard_local.stack import Broker, free_port
from creditguard_shared.events.catalogue import topic_named
from creditguard_shared.events.contracts import InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.kafka import ensure_topics
from creditguard_shared.settings import KafkaSettings
from tests.kafka_tools import publish_event, publish_raw, read_topic
from tests.network_cut import NetworkCut


def _invoice_body(buyer_id: str, invoice_id: str, amount: str = "1000.00") -> dict:
    return {"invoice_id": invoice_id, "buyer_id": buyer_id, "amount": amount, "currency": "EUR", "issued_on": "2026-10-01", "due_on": "2026-11-30"}


async def test_outbox_delivers_after_broker_outage_exactly_once_in_effect(start_service, databases, tmp_path, eventually):
    proxy_port = free_port()
    broker = Broker(advertised_port=proxy_port, log_path=tmp_path / "broker.log")
    broker.start()
    network = NetworkCut(listen_port=proxy_port, target_port=broker.port)
    await network.connect()
    try:
        await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
        await _outage_scenario(start_service, databases, broker, network, eventually)
    finally:
        await network.cut()
        broker.stop()


async def _outage_scenario(start_service, databases, broker, network, eventually):
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers)
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers)
    buyer = f"B-{uuid.uuid4().hex[:8]}"

    before = await limits.client.post("/v1/invoices", json=_invoice_body(buyer, f"{buyer}-1"), headers=limits.auth("erp"))
    assert before.status_code == 201

    async def scoring_sees(count: int):
        body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
        assert body["invoices_total"] == count, body
        return body

    await eventually(lambda: scoring_sees(1))

    await network.cut()
    # The REST API keeps working; the state change commits and its event waits in the outbox.
    during = await limits.client.post("/v1/invoices", json=_invoice_body(buyer, f"{buyer}-2", "250.00"), headers=limits.auth("erp"))
    assert during.status_code == 201, during.text
    payment = {"payment_id": f"{buyer}-P1", "buyer_id": buyer, "invoice_id": f"{buyer}-1", "amount": "400.00", "currency": "EUR", "paid_on": "2026-11-02"}
    assert (await limits.client.post("/v1/payments", json=payment, headers=limits.auth("erp"))).status_code == 201

    async def outbox_waits():
        # The gauge is the relay's count at the start of its last pass, and a pass can sit in a send
        # to the dropped connection: it shows the invoice's two events, or those and the payment's.
        assert limits.metric("creditguard_outbox_pending_events") in (2, 4)
        # The API serves without the broker, so readiness stays up; the details tell the truth.
        assert (await limits.client.get("/health/ready")).status_code == 200
        details = (await limits.client.get("/health/details")).json()
        assert details["broker"]["connected"] is False, details
        assert limits.metric("creditguard_broker_connected") == 0

    await eventually(outbox_waits, timeout=30)

    await network.connect()

    async def delivered():
        body = await scoring_sees(2)
        assert Decimal(body["open_amount"]) == Decimal("850.00"), body
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await eventually(delivered, timeout=60)
    # Exactly once in effect: the invoice is in scoring's state once, whatever the retries sent.
    ids = [EventEnvelope.from_bytes(r.value).data["invoice_id"] for r in await read_topic(broker.bootstrap_servers, "invoice-posted")]
    assert ids.count(f"{buyer}-2") >= 1
    assert (await limits.client.get("/health/ready")).status_code == 200
    assert scoring.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="processed") == 2


async def test_duplicate_delivery_is_harmless(start_service, databases, broker, eventually):
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers)
    buyer = f"B-{uuid.uuid4().hex[:8]}"
    invoice = InvoicePostedV1(
        invoice_id=f"{buyer}-1", buyer_id=buyer, amount=Decimal("500.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 10, 31)
    )
    payment = PaymentReceivedV1(
        payment_id=f"{buyer}-P", buyer_id=buyer, invoice_id=f"{buyer}-1", amount=Decimal("200.00"), currency="EUR", paid_on=date(2026, 10, 20)
    )
    invoice_event = await publish_event(broker.bootstrap_servers, invoice, subject=buyer)
    payment_event = await publish_event(broker.bootstrap_servers, payment, subject=buyer)
    # The same events again, byte for byte, as a producer retry or a replay would send them.
    await publish_raw(broker.bootstrap_servers, "invoice-posted", [(buyer.encode(), invoice_event.to_bytes(), [])])
    await publish_raw(broker.bootstrap_servers, "payment-received", [(buyer.encode(), payment_event.to_bytes(), [])] * 2)

    async def applied_once():
        assert scoring.metric("creditguard_events_consumed_total", topic="payment-received", outcome="duplicate") >= 2
        assert scoring.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="duplicate") >= 1
        body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
        assert body["invoices_total"] == 1
        assert Decimal(body["open_amount"]) == Decimal("300.00")

    await eventually(applied_once, timeout=30)


async def test_poison_message_goes_to_dead_letter_and_later_messages_flow(start_service, databases, broker, eventually):
    alerts = await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers)
    buyer = f"B-{uuid.uuid4().hex[:8]}"
    marker = f"poison-{uuid.uuid4().hex}"
    wrong_type = EventEnvelope(source="/erp/test", type="creditguard.score.changed.v1", subject=buyer, data={"marker": marker})
    bad_payload = EventEnvelope(source="/erp/test", type=topic_named("invoice-posted").event_type, subject=buyer, data={"invoice_id": marker, "amount": "-5"})
    await publish_raw(
        broker.bootstrap_servers,
        "invoice-posted",
        [
            (buyer.encode(), f"not json {marker}".encode(), [("origin", b"test")]),
            (buyer.encode(), wrong_type.to_bytes(), []),
            (buyer.encode(), bad_payload.to_bytes(), []),
        ],
    )
    good = InvoicePostedV1(
        invoice_id=f"{buyer}-1", buyer_id=buyer, amount=Decimal("10.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 10, 31)
    )
    await publish_event(broker.bootstrap_servers, good, subject=buyer)

    async def later_message_processed():
        receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
        assert [r["invoice_id"] for r in receivables] == [f"{buyer}-1"]

    await eventually(later_message_processed, timeout=30)

    async def dead_lettered():
        records = [r for r in await read_topic(broker.bootstrap_servers, "invoice-posted.dlq") if marker.encode() in r.value]
        reasons = sorted(dict(r.headers)["dlq-reason"].decode() for r in records if dict(r.headers).get("dlq-consumer") == b"alerts-receivables")
        assert reasons == ["unparseable", "unparseable", "unparseable"], reasons
        first = next(r for r in records if r.value.startswith(b"not json"))
        headers = dict(first.headers)
        assert headers["origin"] == b"test"  # original headers are kept
        assert headers["dlq-source-topic"] == b"invoice-posted"
        assert headers["dlq-detail"]

    await eventually(dead_lettered, timeout=30)
    assert alerts.metric("creditguard_events_dead_lettered_total", topic="invoice-posted", reason="unparseable") == 3


async def test_handler_failures_are_retried_then_dead_lettered(start_service, databases, broker, eventually):
    """A business-rule rejection (a conflicting re-send of an invoice id) is dead-lettered at once."""
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers)
    buyer = f"B-{uuid.uuid4().hex[:8]}"
    first = InvoicePostedV1(
        invoice_id=f"{buyer}-1", buyer_id=buyer, amount=Decimal("10.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 10, 31)
    )
    conflicting = first.model_copy(update={"amount": Decimal("99.00")})
    await publish_event(broker.bootstrap_servers, first, subject=buyer)
    event = await publish_event(broker.bootstrap_servers, conflicting, subject=buyer)

    async def rejected():
        records = [r for r in await read_topic(broker.bootstrap_servers, "invoice-posted.dlq") if event.id.encode() in r.value]
        assert len(records) == 1
        headers = dict(records[0].headers)
        assert headers["dlq-reason"] == b"rejected"
        assert b"amount" in headers["dlq-detail"]

    await eventually(rejected, timeout=30)
    invoice = (await limits.client.get(f"/v1/invoices/{buyer}-1", headers=limits.auth("sales"))).json()
    assert invoice["amount"] == "10.00"
