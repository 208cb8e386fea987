"""Kafka adapters for the receivables topics: keep the receivables copy current, then re-check the invoice's alerts and collection case."""

from __future__ import annotations

from pydantic import BaseModel

from creditguard_alerts.collection_cases import service as collections
from creditguard_alerts.context import AlertsContext, AlertsContextSource
from creditguard_alerts.early_warning import service as alerting
from creditguard_alerts.early_warning.service import InvoiceFacts
from creditguard_alerts.models.receivables import Receivable
from creditguard_alerts.receivables import service as receivables
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.receivables import ReceivablesEvent
from creditguard_shared.unit_of_work import UnitOfWork


async def _watch(uow: UnitOfWork, *, receivable: Receivable | None, context: AlertsContext) -> None:
    if receivable is not None:
        await collections.watch_invoice(uow, context=context, invoice=collections.invoice_facts(receivable, context=context))


async def on_invoice_posted(uow: UnitOfWork, event: InvoicePostedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    receivable = await receivables.record_invoice(uow, event=event, now=context.now)
    # An imported book's documents are history: kept in the copy (the daily sweep alerts on what
    # is overdue now), but they raise no alert, collection step or webhook of their own.
    if not event.historical:
        await _watch(uow, context=context, receivable=receivable)


async def on_payment_received(uow: UnitOfWork, event: PaymentReceivedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    receivable = await receivables.record_payment(uow, event=event)
    if not event.historical:
        await _watch(uow, context=context, receivable=receivable)


async def on_credit_note_issued(uow: UnitOfWork, event: CreditNoteIssuedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    await _watch(uow, context=context, receivable=await receivables.record_credit_note(uow, event=event))


async def on_payment_late(uow: UnitOfWork, event: PaymentLateV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    receivable = await receivables.record_late_payment(uow, event=event)
    if receivable is not None:
        invoice = collections.invoice_facts(receivable, context=context, days_past_due=event.days_past_due)
    else:
        # The invoice itself has not arrived yet (another topic); the event says enough to act on.
        invoice = InvoiceFacts(
            invoice_id=event.invoice_id,
            buyer_id=event.buyer_id,
            due_on=event.due_on,
            open_amount=event.open_amount,
            currency=event.currency,
            days_past_due=event.days_past_due,
        )
    await collections.watch_invoice(uow, context=context, invoice=invoice)


async def read_ahead(uow: UnitOfWork, payloads: list[BaseModel]) -> None:
    """The batch's receivables, settlements and collection cases, and its buyers' profiles, covers
    and open alerts, in a few statements."""
    events = [p for p in payloads if isinstance(p, ReceivablesEvent)]
    await receivables.read_ahead(uow, events=events)
    await collections.read_ahead_cases(uow, invoice_ids=sorted({event.invoice_id for event in events}))
    await alerting.read_ahead_for_buyers(uow, buyer_ids={event.buyer_id for event in events})


def subscriptions(source: AlertsContextSource) -> list[Subscription]:
    """Each event is handled with the context as of its handling: a moved test clock is seen at once."""
    with_context = source.with_context_now
    return [
        Subscription("invoice-posted", with_context(on_invoice_posted)),
        Subscription("payment-received", with_context(on_payment_received)),
        Subscription("credit-note-issued", with_context(on_credit_note_issued)),
        Subscription("payment-late", with_context(on_payment_late)),
    ]
