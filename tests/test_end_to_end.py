"""The broker and the three services as real processes: an invoice posted to limits over REST
reaches scoring and alerts through the broker, and replaying every event leaves all three
states unchanged."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from creditguard_local.stack import LocalSystem, local_system
from creditguard_shared.events.catalogue import TOPICS
from tests.fixtures.infrastructure import DatabaseFactory
from tests.kafka_tools import publish_raw, read_topic

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path, database_backend: str) -> Iterator[LocalSystem]:
    factory = DatabaseFactory(database_backend, tmp_path)
    urls = {name: asyncio.run(factory.create(name)) for name in ("scoring", "limits", "alerts")}
    try:
        with local_system(tmp_path, database_urls=urls) as system:
            yield system
    finally:
        asyncio.run(factory.drop_all())


def _consumed(metrics_text: str, *outcomes: str) -> float:
    pattern = re.compile(r'^creditguard_events_consumed_total\{[^}]*outcome="(' + "|".join(outcomes) + r')"[^}]*\} ([0-9.e+]+)$', re.M)
    return sum(float(value) for _, value in pattern.findall(metrics_text))


async def test_invoice_flows_to_all_services_and_replay_changes_nothing(stack, eventually):
    broker, services = stack.broker, stack.services
    auth = {role: stack.auth(role) for role in stack.keys}
    buyer = f"B-{uuid.uuid4().hex[:8]}"
    correlation_id = uuid.uuid4().hex
    async with httpx.AsyncClient(timeout=10) as http:
        limits, scoring, alerts = services["limits"].base_url, services["scoring"].base_url, services["alerts"].base_url
        response = await http.post(
            f"{limits}/v1/invoices",
            json={
                "invoice_id": f"{buyer}-1",
                "buyer_id": buyer,
                "order_id": "SO-1",
                "amount": "48000.00",
                "currency": "EUR",
                "issued_on": "2026-09-01",
                "due_on": "2026-10-31",
            },
            headers={**auth["erp"], "X-Correlation-ID": correlation_id},
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-correlation-id"] == correlation_id
        payment = {"payment_id": f"{buyer}-P1", "buyer_id": buyer, "invoice_id": f"{buyer}-1", "amount": "8000.00", "currency": "EUR", "paid_on": "2026-11-05"}
        assert (await http.post(f"{limits}/v1/payments", json=payment, headers=auth["erp"])).status_code == 201

        async def snapshot():
            return (
                (await http.get(f"{limits}/v1/buyers/{buyer}/invoices", headers=auth["sales"])).json(),
                (await http.get(f"{scoring}/v1/buyers/{buyer}/payment-behaviour", headers=auth["sales"])).json(),
                (await http.get(f"{alerts}/v1/buyers/{buyer}/receivables", headers=auth["sales"])).json(),
            )

        async def everywhere():
            ledger, behaviour, receivables = await snapshot()
            assert ledger[0]["open_amount"] == "40000.00"
            assert behaviour["invoices_total"] == 1 and behaviour["open_amount"] == "40000.00", behaviour
            assert [(r["invoice_id"], r["open_amount"]) for r in receivables] == [(f"{buyer}-1", "40000.00")]

        await eventually(everywhere, timeout=30)
        before = await snapshot()

        # The correlation id travelled from the REST request into the event.
        records = await read_topic(broker.bootstrap_servers, "invoice-posted")
        assert any(correlation_id.encode() in r.value for r in records), [r.value for r in records]

        # Replay every message of every topic, byte for byte.
        # A replayed event is recognised as a duplicate, or ignored where it is the service's own
        # (limits publishes the documents posted through its REST API on the topics it consumes).
        recognised = ("duplicate", "ignored")
        consumed_before = {name: _consumed((await http.get(f"{s.base_url}/metrics")).text, *recognised) for name, s in services.items()}
        replayed = {}
        for topic in TOPICS:
            messages = await read_topic(broker.bootstrap_servers, topic.name)
            replayed[topic.name] = len(messages)
            await publish_raw(broker.bootstrap_servers, topic.name, [(m.key, m.value, list(m.headers)) for m in messages])
        assert replayed["invoice-posted"] >= 1 and replayed["payment-received"] >= 1

        async def replay_consumed():
            for name, service in services.items():
                subscribed = {"limits": ("invoice-posted", "payment-received", "credit-note-issued")}.get(
                    name, ("invoice-posted", "payment-received", "credit-note-issued", "payment-late")
                )
                expected = sum(replayed.get(t, 0) for t in subscribed)
                duplicates = _consumed((await http.get(f"{service.base_url}/metrics")).text, *recognised) - consumed_before[name]
                assert duplicates >= expected, (name, duplicates, expected)

        await eventually(replay_consumed, timeout=60)
        assert await snapshot() == before
