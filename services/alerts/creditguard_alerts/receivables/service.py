"""Keep the watched receivables current from the event stream (idempotent, any order)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from creditguard_alerts.models.receivables import Receivable, ReceivableSettlement
from creditguard_alerts.receivables.repository import ReceivableRepository
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1
from creditguard_shared.receivables import ReceivablesEvent, settle, settlement_id_of, settlement_ids_of
from creditguard_shared.unit_of_work import UnitOfWork


async def _refresh(repository: ReceivableRepository, receivable: Receivable) -> None:
    settlements = await repository.settlements_for(receivable.invoice_id)
    state = settle(receivable.amount, ((s.settled_on, s.amount) for s in settlements))
    receivable.open_amount, receivable.settled_on = state.open_amount, state.settled_on


async def record_invoice(uow: UnitOfWork, *, event: InvoicePostedV1, now: datetime) -> Receivable:
    repository = ReceivableRepository(uow.session)
    existing = await repository.get(event.invoice_id)
    if existing is not None:
        return existing
    receivable = Receivable.copy_of(event, late_bucket=0, recorded_at=now)
    await repository.add(receivable)
    await _refresh(repository, receivable)
    return receivable


async def _record_settlement(uow: UnitOfWork, *, settlement_id: str, invoice_id: str, amount: Decimal, on: date) -> Receivable | None:
    repository = ReceivableRepository(uow.session)
    receivable = await repository.get(invoice_id)
    if await repository.get_settlement(settlement_id) is not None:
        return receivable
    await repository.add(ReceivableSettlement(settlement_id=settlement_id, invoice_id=invoice_id, amount=amount, settled_on=on))
    if receivable is not None:
        await _refresh(repository, receivable)
    return receivable


async def record_payment(uow: UnitOfWork, *, event: PaymentReceivedV1) -> Receivable | None:
    return await _record_settlement(uow, settlement_id=settlement_id_of(event), invoice_id=event.invoice_id, amount=event.amount, on=event.paid_on)


async def record_credit_note(uow: UnitOfWork, *, event: CreditNoteIssuedV1) -> Receivable | None:
    return await _record_settlement(uow, settlement_id=settlement_id_of(event), invoice_id=event.invoice_id, amount=event.amount, on=event.issued_on)


async def read_ahead(uow: UnitOfWork, *, events: list[ReceivablesEvent]) -> None:
    """Read the receivables and settlements these events are about at once, for a batch of them."""
    await ReceivableRepository(uow.session).load_for_invoices(
        invoice_ids={event.invoice_id for event in events},
        settlement_ids=settlement_ids_of(events),
    )


async def record_late_payment(uow: UnitOfWork, *, event: PaymentLateV1) -> Receivable | None:
    receivable = await ReceivableRepository(uow.session).get(event.invoice_id)
    if receivable is not None:
        receivable.late_bucket = max(receivable.late_bucket, event.bucket)
    return receivable


async def mark_insurer_step(uow: UnitOfWork, *, invoice_id: str, step: str, on: date) -> None:
    receivable = await ReceivableRepository(uow.session).get(invoice_id)
    if receivable is None:
        return
    if step == "insurer_notified":
        receivable.insurer_notified_on = receivable.insurer_notified_on or on
    else:
        receivable.claim_filed_on = receivable.claim_filed_on or on


async def overdue_receivables(uow: UnitOfWork, *, today: date) -> list[Receivable]:
    return await ReceivableRepository(uow.session).overdue_open(today=today)


async def buyer_receivables(uow: UnitOfWork, *, buyer_id: str, open_only: bool) -> list[Receivable]:
    return await ReceivableRepository(uow.session).for_buyer(buyer_id, open_only=open_only)
