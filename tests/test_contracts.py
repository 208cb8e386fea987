"""Event contracts, the topic catalogue and the generated AsyncAPI document."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from creditguard_shared.events import asyncapi
from creditguard_shared.events.catalogue import TOPICS, all_topic_names, event_type_for, payload_model_for
from creditguard_shared.events.contracts import InvoicePostedV1
from creditguard_shared.events.envelope import EventEnvelope, new_event
from creditguard_shared.observability import correlation_id_var

ROOT = Path(__file__).resolve().parents[1]


def test_envelope_is_cloudevents_structured_json_with_buyer_subject():
    token = correlation_id_var.set("corr-1")
    try:
        payload = InvoicePostedV1(
            invoice_id="I-1", buyer_id="B-1", amount=Decimal("48000.10"), currency="EUR", issued_on=date(2026, 1, 1), due_on=date(2026, 3, 1)
        )
        envelope = new_event(source="/creditguard/limits", payload=payload, subject="B-1")
    finally:
        correlation_id_var.reset(token)
    raw = json.loads(envelope.to_bytes())
    assert raw["specversion"] == "1.0"
    assert raw["type"] == "creditguard.invoice.posted.v1"
    assert raw["subject"] == "B-1"
    assert raw["source"] == "/creditguard/limits"
    assert raw["correlationid"] == "corr-1"
    assert raw["data"]["amount"] == "48000.10"  # decimals travel as strings, never floats
    parsed = EventEnvelope.from_bytes(envelope.to_bytes())
    assert InvoicePostedV1.model_validate(parsed.data) == payload


def test_payloads_reject_bad_data():
    with pytest.raises(ValidationError):
        InvoicePostedV1(invoice_id="I", buyer_id="B", amount=Decimal("1"), currency="euro", issued_on=date(2026, 1, 1), due_on=date(2026, 1, 2))
    with pytest.raises(ValidationError):
        InvoicePostedV1.model_validate(
            {"invoice_id": "I", "buyer_id": "B", "amount": "1", "currency": "EUR", "issued_on": "2026-01-01", "due_on": "2026-01-02", "extra": 1}
        )


def test_catalogue_is_consistent():
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    for required in ("invoice-posted", "payment-received", "payment-late", "score-changed", "limit-breached"):
        assert required in names
    for topic in TOPICS:
        assert payload_model_for(topic.event_type) is topic.payload
        assert event_type_for(topic.payload) == topic.event_type
        assert topic.event_type.endswith(".v1")
    assert "invoice-posted.dlq" in all_topic_names()


def test_committed_asyncapi_document_is_current():
    committed = (ROOT / "docs" / "asyncapi.json").read_text()
    assert committed == asyncapi.render(), "docs/asyncapi.json is stale: run `make asyncapi`"
    document = json.loads(committed)
    assert document["asyncapi"].startswith("3.")
    assert set(document["channels"]) == {t.name for t in TOPICS}
