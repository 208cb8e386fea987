"""The one place that says which topics exist, what they carry, who writes and who reads them."""

from __future__ import annotations

from dataclasses import dataclass

from creditguard_shared.events.contracts import (
    AccountHoldRequestedV1,
    AccountStatusChangedV1,
    BuyerAssessedV1,
    CashRefundedV1,
    CreditCheckDecidedV1,
    CreditNoteIssuedV1,
    EventPayload,
    ExposureChangedV1,
    InsuranceCoverChangedV1,
    InvoicePostedV1,
    LimitBreachedV1,
    LimitChangedV1,
    PaymentLateV1,
    PaymentReceivedV1,
    PromiseBrokenV1,
    ScoreChangedV1,
)

DEAD_LETTER_SUFFIX = ".dlq"
DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    event_type: str
    payload: type[EventPayload]
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    description: str
    partitions: int = 6
    # Longer than the services' outbox retention (7 days by default), so anything an outbox can
    # still replay is also still readable on the broker; "delete": events are a history, not a
    # table (compaction by buyer would drop all but each buyer's last event).
    retention_ms: int = 14 * DAY_MS
    cleanup_policy: str = "delete"
    # Dead letters wait for a person: a month to inspect them.
    dead_letter_retention_ms: int = 30 * DAY_MS

    @property
    def dead_letter_topic(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX

    def broker_configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}

    def dead_letter_broker_configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.dead_letter_retention_ms), "cleanup.policy": "delete"}


TOPICS: tuple[Topic, ...] = (
    Topic(
        "invoice-posted",
        "creditguard.invoice.posted.v1",
        InvoicePostedV1,
        ("limits", "erp"),
        ("limits", "scoring", "alerts"),
        "An invoice was issued to a buyer (from an ERP directly or through the limits REST API).",
    ),
    Topic(
        "payment-received",
        "creditguard.payment.received.v1",
        PaymentReceivedV1,
        ("limits", "erp"),
        ("limits", "scoring", "alerts"),
        "A buyer paid (part of) an invoice; what exceeds the invoice's open amount is the buyer's unapplied cash.",
    ),
    Topic(
        "credit-note-issued",
        "creditguard.credit-note.issued.v1",
        CreditNoteIssuedV1,
        ("limits", "erp"),
        ("limits", "scoring", "alerts"),
        "A credit note reduced an invoice's open amount.",
    ),
    Topic(
        "payment-late",
        "creditguard.payment.late.v1",
        PaymentLateV1,
        ("limits",),
        ("scoring", "alerts"),
        "An open invoice crossed 1, 15, 30, 60 or 90 days past due.",
    ),
    Topic(
        "cash-refunded",
        "creditguard.cash.refunded.v1",
        CashRefundedV1,
        ("limits",),
        ("erp",),
        "A credit manager paid a buyer's unapplied cash (an overpayment) back.",
    ),
    Topic("score-changed", "creditguard.score.changed.v1", ScoreChangedV1, ("scoring",), ("alerts",), "A buyer's grade or risk class changed."),
    Topic(
        "buyer-assessed",
        "creditguard.buyer.assessed.v1",
        BuyerAssessedV1,
        ("scoring",),
        ("limits", "alerts"),
        "A buyer was assessed (every assessment, with the reference data limits and alerts keep).",
    ),
    Topic(
        "exposure-changed", "creditguard.exposure.changed.v1", ExposureChangedV1, ("limits",), ("alerts",), "A buyer's exposure, limit or utilisation changed."
    ),
    Topic(
        "insurance-cover-changed",
        "creditguard.insurance-cover.changed.v1",
        InsuranceCoverChangedV1,
        ("limits",),
        ("alerts",),
        "Credit-insurance cover for a buyer was granted, changed or withdrawn.",
    ),
    Topic("limit-changed", "creditguard.limit.changed.v1", LimitChangedV1, ("limits",), ("alerts",), "A buyer's credit limit was set or changed."),
    Topic("limit-breached", "creditguard.limit.breached.v1", LimitBreachedV1, ("limits",), ("alerts",), "A buyer's exposure went above its limit."),
    Topic(
        "credit-check-decided",
        "creditguard.credit-check.decided.v1",
        CreditCheckDecidedV1,
        ("limits",),
        ("alerts", "erp"),
        "An order-entry credit check was decided (automatically or by a credit manager).",
    ),
    Topic(
        "account-status-changed",
        "creditguard.account.status-changed.v1",
        AccountStatusChangedV1,
        ("limits",),
        ("alerts",),
        "A credit account moved between active, on hold and blocked.",
    ),
    Topic(
        "account-hold-requested",
        "creditguard.account.hold-requested.v1",
        AccountHoldRequestedV1,
        ("alerts",),
        ("limits",),
        "Collections asks to stop supplies to a buyer (or to lift the stop).",
    ),
    Topic(
        "promise-broken",
        "creditguard.promise.broken.v1",
        PromiseBrokenV1,
        ("alerts",),
        ("scoring",),
        "A buyer did not pay by the date it promised in collections.",
    ),
)

_BY_NAME = {t.name: t for t in TOPICS}
_BY_PAYLOAD = {t.payload: t for t in TOPICS}
_BY_EVENT_TYPE = {t.event_type: t for t in TOPICS}


def topic_named(name: str) -> Topic:
    return _BY_NAME[name]


def topic_for(payload_model: type[EventPayload]) -> Topic:
    return _BY_PAYLOAD[payload_model]


def event_type_for(payload_model: type[EventPayload]) -> str:
    return _BY_PAYLOAD[payload_model].event_type


def payload_model_for(event_type: str) -> type[EventPayload] | None:
    topic = _BY_EVENT_TYPE.get(event_type)
    return topic.payload if topic else None


def all_topic_names(*, with_dead_letters: bool = True) -> list[str]:
    names = [t.name for t in TOPICS]
    if with_dead_letters:
        names += [t.dead_letter_topic for t in TOPICS]
    return names
