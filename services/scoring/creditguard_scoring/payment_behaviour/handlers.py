"""Kafka adapters for the receivables topics and broken promises to pay. Settlements, late
payments and broken promises change the buyer's payment behaviour, so they also mark the buyer
for a debounced re-assessment in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from creditguard_scoring.context import ScoringContext
from creditguard_scoring.payment_behaviour import service
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1, PromiseBrokenV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.receivables import ReceivablesEvent
from creditguard_shared.unit_of_work import UnitOfWork


def read_ahead(context: ScoringContext) -> Callable[[UnitOfWork, list[BaseModel]], Awaitable[None]]:
    """A batch's invoices, settlements and due marks in three statements."""

    async def prepare(uow: UnitOfWork, payloads: list[BaseModel]) -> None:
        events = [p for p in payloads if isinstance(p, ReceivablesEvent)]
        await service.read_ahead(uow, events=events)
        promises = [p for p in payloads if isinstance(p, PromiseBrokenV1)]
        await context.reassessment.read_ahead_dues(uow, buyer_ids={event.buyer_id for event in [*events, *promises]})

    return prepare


def subscriptions(context: ScoringContext) -> list[Subscription]:
    """The handlers, bound to the service context (its clock runs the debounce window)."""

    async def mark(uow: UnitOfWork, buyer_id: str) -> None:
        await context.reassessment.mark_due(uow, buyer_id=buyer_id, now=context.clock.now())

    async def on_invoice_posted(uow: UnitOfWork, event: InvoicePostedV1, _: EventEnvelope) -> None:
        await service.record_invoice(uow, event=event)

    async def on_payment_received(uow: UnitOfWork, event: PaymentReceivedV1, _: EventEnvelope) -> None:
        await service.record_payment(uow, event=event)
        await mark(uow, event.buyer_id)

    async def on_credit_note_issued(uow: UnitOfWork, event: CreditNoteIssuedV1, _: EventEnvelope) -> None:
        await service.record_credit_note(uow, event=event)
        await mark(uow, event.buyer_id)

    async def on_payment_late(uow: UnitOfWork, event: PaymentLateV1, _: EventEnvelope) -> None:
        await service.record_late_payment(uow, event=event)
        await mark(uow, event.buyer_id)

    async def on_promise_broken(uow: UnitOfWork, event: PromiseBrokenV1, _: EventEnvelope) -> None:
        if await service.record_broken_promise(uow, event=event):
            await mark(uow, event.buyer_id)

    return [
        Subscription("invoice-posted", on_invoice_posted),
        Subscription("payment-received", on_payment_received),
        Subscription("credit-note-issued", on_credit_note_issued),
        Subscription("payment-late", on_payment_late),
        Subscription("promise-broken", on_promise_broken),
    ]
