"""Kafka adapters for the receivables topics."""

from __future__ import annotations

from creditguard_scoring.payment_behaviour import service
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


async def on_invoice_posted(uow: UnitOfWork, event: InvoicePostedV1, _: EventEnvelope) -> None:
    await service.record_invoice(uow, event=event)


async def on_payment_received(uow: UnitOfWork, event: PaymentReceivedV1, _: EventEnvelope) -> None:
    await service.record_payment(uow, event=event)


async def on_credit_note_issued(uow: UnitOfWork, event: CreditNoteIssuedV1, _: EventEnvelope) -> None:
    await service.record_credit_note(uow, event=event)


async def on_payment_late(uow: UnitOfWork, event: PaymentLateV1, _: EventEnvelope) -> None:
    await service.record_late_payment(uow, event=event)


SUBSCRIPTIONS = [
    Subscription("invoice-posted", on_invoice_posted),
    Subscription("payment-received", on_payment_received),
    Subscription("credit-note-issued", on_credit_note_issued),
    Subscription("payment-late", on_payment_late),
]
