"""Apply receivables events to the buyer's payment experiences. Every function is idempotent by
document id and tolerates events of different topics arriving in any order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditguard_scoring.models.payment_behaviour import BrokenPromise, PaymentExperience, Settlement
from creditguard_scoring.payment_behaviour.repository import PaymentBehaviourRepository
from creditguard_scoring.payment_behaviour.rules import PaymentBehaviourSummary, past_due_threshold, summarise
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1, PromiseBrokenV1
from creditguard_shared.receivables import ReceivablesEvent, settle, settlement_id_of, settlement_ids_of
from creditguard_shared.unit_of_work import UnitOfWork


async def _recompute_settlement(repository: PaymentBehaviourRepository, experience: PaymentExperience) -> None:
    settlements = await repository.settlements_for_invoice(experience.invoice_id)
    state = settle(experience.amount, ((s.settled_on, s.amount) for s in settlements))
    experience.open_amount, experience.settled_on = state.open_amount, state.settled_on
    if state.settled_on is not None:
        experience.max_days_past_due = max(experience.max_days_past_due, (state.settled_on - experience.due_on).days)


async def record_invoice(uow: UnitOfWork, *, event: InvoicePostedV1) -> None:
    repository = PaymentBehaviourRepository(uow.session)
    if await repository.get_experience(event.invoice_id) is not None:
        return
    experience = PaymentExperience.copy_of(event, max_days_past_due=0)
    await repository.add(experience)
    await _recompute_settlement(repository, experience)


async def _record_settlement(uow: UnitOfWork, *, settlement_id: str, kind: str, buyer_id: str, invoice_id: str, amount: Decimal, on: date) -> None:
    repository = PaymentBehaviourRepository(uow.session)
    if await repository.get_settlement(settlement_id) is not None:
        return
    await repository.add(Settlement(settlement_id=settlement_id, kind=kind, buyer_id=buyer_id, invoice_id=invoice_id, amount=amount, settled_on=on))
    experience = await repository.get_experience(invoice_id)
    if experience is not None:
        await _recompute_settlement(repository, experience)


async def record_payment(uow: UnitOfWork, *, event: PaymentReceivedV1) -> None:
    await _record_settlement(
        uow, settlement_id=settlement_id_of(event), kind="payment", buyer_id=event.buyer_id, invoice_id=event.invoice_id, amount=event.amount, on=event.paid_on
    )


async def record_credit_note(uow: UnitOfWork, *, event: CreditNoteIssuedV1) -> None:
    await _record_settlement(
        uow,
        settlement_id=settlement_id_of(event),
        kind="credit_note",
        buyer_id=event.buyer_id,
        invoice_id=event.invoice_id,
        amount=event.amount,
        on=event.issued_on,
    )


async def read_ahead(uow: UnitOfWork, *, events: list[ReceivablesEvent]) -> None:
    """Read the invoices' experiences and settlements, and the settlements these events record,
    at once, for a batch of events about them."""
    await PaymentBehaviourRepository(uow.session).load_for_invoices(
        invoice_ids={event.invoice_id for event in events},
        settlement_ids=settlement_ids_of(events),
    )


async def record_late_payment(uow: UnitOfWork, *, event: PaymentLateV1) -> None:
    experience = await PaymentBehaviourRepository(uow.session).get_experience(event.invoice_id)
    if experience is not None:
        experience.max_days_past_due = max(experience.max_days_past_due, event.days_past_due)


async def record_broken_promise(uow: UnitOfWork, *, event: PromiseBrokenV1) -> bool:
    """Store the broken promise once; False when it was already known."""
    repository = PaymentBehaviourRepository(uow.session)
    if await repository.get_broken_promise(case_id=event.case_id, promised_until=event.promised_until) is not None:
        return False
    await repository.add_broken_promise(
        BrokenPromise(
            case_id=event.case_id,
            promised_until=event.promised_until,
            buyer_id=event.buyer_id,
            invoice_id=event.invoice_id,
            promised_amount=event.promised_amount,
            broken_on=event.broken_on,
        )
    )
    return True


async def assessed_payment_behaviour(uow: UnitOfWork, *, buyer_id: str, as_of: date) -> PaymentBehaviourSummary:
    """The summary an assessment rests on; the invoices remember the past-due threshold it saw,
    so the due pass re-assesses the buyer only when one crosses the next threshold."""
    repository = PaymentBehaviourRepository(uow.session)
    experiences = await repository.experiences_for_buyer(buyer_id)
    for experience in experiences:
        reached = past_due_threshold(experience, as_of=as_of)
        if reached != experience.past_due_threshold_assessed:
            experience.past_due_threshold_assessed = reached
    return summarise(experiences, as_of=as_of, broken_promises=await repository.broken_promise_dates(buyer_id))


async def buyer_payment_behaviour(uow: UnitOfWork, *, buyer_id: str, as_of: date) -> PaymentBehaviourSummary:
    repository = PaymentBehaviourRepository(uow.session)
    experiences = await repository.experiences_for_buyer(buyer_id)
    return summarise(experiences, as_of=as_of, broken_promises=await repository.broken_promise_dates(buyer_id))
