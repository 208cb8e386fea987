"""Ledger rules. ``record_*`` apply an ERP document idempotently (same id and content: no-op;
same id, other content: conflict); ``post_*`` also publish it, for documents that entered
through REST. Kafka handlers call ``record_*`` because the event is already on the topic."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from creditguard_limits.accounts.service import announce_ended_increases, follow_policy_limit, refresh_payment_experience
from creditguard_limits.checks.repository import ChecksRepository
from creditguard_limits.checks.service import expire_reservations, release_order_quietly
from creditguard_limits.context import LimitsContext
from creditguard_limits.ledger.repository import InvoiceRecord, LedgerRepository, PaymentRecord, SettlementModel, SettlementRecord
from creditguard_limits.ledger.rules import (
    BuyerPaymentRecord,
    invoice_date_problem,
    late_threshold_to_announce,
    refund_date_problem,
    settlement_date_problem,
)
from creditguard_limits.ledger.schemas import (
    BuyerCashOut,
    CashApplicationIn,
    CashApplicationOut,
    CashBalanceOut,
    CreditNoteIn,
    InvoiceIn,
    PaymentIn,
    RefundIn,
    RefundOut,
)
from creditguard_limits.models.accounts import CreditAccount
from creditguard_limits.models.ledger import CreditNote, Invoice, Payment, Refund
from creditguard_limits.position.repository import LimitTerms
from creditguard_limits.position.rules import ZERO
from creditguard_limits.position.service import forget_locked_ahead, lock_accounts_ahead, lock_many_with_terms, lock_with_terms, refresh_exposure
from creditguard_shared.errors import Conflict, DomainError, NotFound, Unprocessable
from creditguard_shared.events.contracts import CashRefundedV1, CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1
from creditguard_shared.held import Held
from creditguard_shared.receivables import settle
from creditguard_shared.unit_of_work import UnitOfWork

T = TypeVar("T")

INVOICE_FIELDS = ("buyer_id", "order_id", "amount", "currency", "issued_on", "due_on")
PAYMENT_FIELDS = ("buyer_id", "invoice_id", "amount", "currency", "paid_on")
CREDIT_NOTE_FIELDS = ("buyer_id", "invoice_id", "amount", "currency", "issued_on")
APPLICATION_FIELDS = ("invoice_id", "amount", "currency", "applied_on")
REFUND_FIELDS = ("buyer_id", "amount", "currency", "refunded_on", "reason")


def _ensure_same_document(kind: str, document_id: str, stored: object, incoming: object, fields: tuple[str, ...]) -> None:
    differing = [f for f in fields if getattr(stored, f) != getattr(incoming, f)]
    if differing:
        raise Conflict(
            f"{kind} {document_id} was already recorded with different {', '.join(differing)}.",
            conflicting_fields=differing,
        )


async def _refresh_open_amount(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    invoice: InvoiceRecord,
    account: CreditAccount,
    historical: bool = False,
    settlements: list[tuple[date, Decimal]] | None = None,
) -> None:
    """``account``: the invoice buyer's, already locked by the caller. ``historical``: a document
    of an imported book; the importer follows the policy limit once per buyer afterwards.
    ``settlements``: the invoice's, if the caller has just read them."""
    if settlements is None:
        settlements = await LedgerRepository(uow.session).settlements(invoice.invoice_id)
    state = settle(invoice.amount, settlements)
    newly_settled = invoice.settled_on is None and state.settled_on is not None
    # Set only when changed: a new invoice with nothing against it would be written twice.
    if (invoice.open_amount, invoice.settled_on) != (state.open_amount, state.settled_on):
        LedgerRepository(uow.session).settle(invoice, open_amount=state.open_amount, settled_on=state.settled_on)
    if newly_settled:
        assert invoice.settled_on is not None
        record = BuyerPaymentRecord(account.invoices_settled, account.invoices_paid_on_time, account.days_late_total)
        LedgerRepository(uow.session).set_payment_record(account, record.after_settlement(days_late=(invoice.settled_on - invoice.due_on).days))
        if invoice.settled_on <= invoice.due_on and not historical:
            await follow_policy_limit(uow, context=context, account=account, reason=f"invoice {invoice.invoice_id} paid on time")


# The buyers whose exposure this unit of work publishes before it commits, with their account
# and terms when a caller had locked them already.
_EXPOSURE_TO_PUBLISH: Held[dict[str, tuple[CreditAccount, LimitTerms] | None]] = Held("limits.exposure_to_publish", dict)


def _exposure_changed(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_id: str,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> None:
    """The buyer's exposure is published once, just before the transaction commits, however many
    of its documents the transaction records (a batch, or a batch of consumed events). With more
    than one buyer to publish, their totals are read first in one statement for all.
    ``historical``: an imported book's documents; its position is published, but a limit it
    exceeds is not news (no limit-breached)."""
    # Totals read ahead for this buyer no longer hold.
    forget_locked_ahead(uow, buyer_id=buyer_id)
    to_publish = _EXPOSURE_TO_PUBLISH.get(uow.session)
    to_publish[buyer_id] = locked or to_publish.get(buyer_id)

    async def read_ahead() -> None:
        pending = _EXPOSURE_TO_PUBLISH.forget(uow.session) or {}
        if len(pending) > 1:
            already_locked = {buyer_id: held for buyer_id, held in pending.items() if held is not None}
            await lock_accounts_ahead(uow, context=context, buyer_ids=set(pending), already_locked=already_locked)

    async def publish() -> None:
        await refresh_exposure(uow, context=context, buyer_id=buyer_id, locked=locked, announce_breach=not historical)

    # Registered before the first buyer's publication, so it runs before all of them.
    uow.before_commit("exposure read-ahead", read_ahead)
    uow.before_commit(("exposure", buyer_id), publish)


def _check_settles_invoice(kind: str, invoice: InvoiceRecord, *, buyer_id: str, currency: str) -> None:
    if invoice.buyer_id != buyer_id:
        raise Unprocessable(f"{kind} names buyer {buyer_id}, but invoice {invoice.invoice_id} belongs to {invoice.buyer_id}.")
    if invoice.currency != currency:
        raise Unprocessable(f"{kind} is in {currency}, but invoice {invoice.invoice_id} is in {invoice.currency}.")


async def record_invoice(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    invoice: InvoiceIn,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> tuple[InvoiceRecord, bool]:
    """``locked``: the buyer's account and terms, if the caller locked it in this transaction."""
    repository = LedgerRepository(uow.session)
    # The account lock first: every change to one buyer's exposure queues behind the same row.
    locked = locked or await lock_with_terms(uow, context=context, buyer_id=invoice.buyer_id)
    account = locked[0]
    existing = await repository.get_invoice(invoice.invoice_id)
    if existing is not None:
        _ensure_same_document("Invoice", invoice.invoice_id, existing, invoice, INVOICE_FIELDS)
        return existing, False
    problem = invoice_date_problem(issued_on=invoice.issued_on, due_on=invoice.due_on, today=context.clock.today())
    if problem is not None:
        raise Unprocessable(f"Invoice {invoice.invoice_id}: {problem[1]}.", field=problem[0])
    entity = repository.new_invoice(
        **invoice.model_dump(), open_amount=invoice.amount, settled_on=None, late_bucket_announced=0, created_at=context.clock.now()
    )
    settlements = await repository.settlements(entity.invoice_id)
    if settlements:
        # Payments or credit notes consumed before their invoice (another topic) count at once.
        settlements = await _apply_held_payments(repository, invoice=entity)
    await _refresh_open_amount(uow, context=context, invoice=entity, account=account, historical=historical, settlements=settlements)
    if invoice.order_id is not None:
        # The order's reservation becomes this invoice: release it in the same transaction, and
        # publish the exposure once with both changes.
        reservation = await release_order_quietly(uow, context=context, order_id=invoice.order_id, status="invoiced")
        if reservation is not None and reservation.buyer_id != invoice.buyer_id:
            _exposure_changed(uow, context=context, buyer_id=reservation.buyer_id)
    _exposure_changed(uow, context=context, buyer_id=invoice.buyer_id, locked=locked, historical=historical)
    return entity, True


async def _apply_held_payments(repository: LedgerRepository, *, invoice: InvoiceRecord) -> list[tuple[date, Decimal]]:
    """Payments consumed before their invoice were held whole as unapplied cash. Now the invoice
    is here, its credit notes count first and then the payments by date (and id), each applied
    up to what is still open: the same split, whatever order the documents came in. A payment
    naming another buyer or currency cannot settle this invoice: all of it stays its own buyer's
    unapplied cash. Answers the invoice's settlements."""
    payments, credit_notes = await repository.settlement_documents(invoice.invoice_id)
    remaining = max(invoice.amount - sum((c.amount for c in credit_notes), ZERO), ZERO)
    for payment in payments:
        if payment.applied_amount is not None:
            remaining -= payment.applied_amount
            continue
        if (payment.buyer_id, payment.currency) != (invoice.buyer_id, invoice.currency):
            payment.applied_amount = ZERO
            continue
        payment.applied_amount = min(payment.amount, max(remaining, ZERO))
        remaining -= payment.applied_amount
    settlements = [(c.issued_on, c.amount) for c in credit_notes] + [(p.paid_on, p.applied_amount) for p in payments if p.applied_amount]
    repository.settlements_changed(invoice.invoice_id, settlements)
    return settlements


async def post_invoice(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    invoice: InvoiceIn,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> tuple[InvoiceRecord, bool]:
    entity, created = await record_invoice(uow, context=context, invoice=invoice, locked=locked, historical=historical)
    if created:
        uow.emit(InvoicePostedV1(**invoice.model_dump(), historical=historical), subject=invoice.buyer_id)
    return entity, created


async def _apply_settlement_document(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    kind: str,
    document_id: str,
    document: PaymentIn | CreditNoteIn,
    model: SettlementModel,
    fields: tuple[str, ...],
    invoice_must_exist: bool,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> tuple[SettlementRecord, bool]:
    """A payment or credit note against an invoice: both reduce its open amount the same way."""
    repository = LedgerRepository(uow.session)
    locked = locked or await lock_with_terms(uow, context=context, buyer_id=document.buyer_id)
    account = locked[0]
    existing = await repository.get_settlement(model, document_id)
    if existing is not None:
        if not isinstance(existing, CreditNote) and existing.from_unapplied_cash:
            raise Conflict(f"{kind} {document_id}: the id is a cash application's, not a payment's.", conflicting_fields=["payment_id"])
        _ensure_same_document(kind, document_id, existing, document, fields)
        return existing, False
    invoice = await repository.get_invoice(document.invoice_id, for_update=True)
    if invoice is None and invoice_must_exist:
        raise Unprocessable(f"Invoice {document.invoice_id} is unknown; post the invoice first.", field="invoice_id")
    if invoice is not None:
        _check_settles_invoice(kind, invoice, buyer_id=document.buyer_id, currency=document.currency)
    field = "paid_on" if isinstance(document, PaymentIn) else "issued_on"
    problem = settlement_date_problem(
        kind=kind, field=field, dated=getattr(document, field), invoice_issued_on=None if invoice is None else invoice.issued_on, today=context.clock.today()
    )
    if problem is not None:
        raise Unprocessable(f"{kind} {document_id}: {problem[1]}.", field=problem[0])
    if isinstance(document, CreditNoteIn) and invoice is not None and document.amount > invoice.open_amount:
        # A credit note corrects what the buyer still owes; one above it would invent a debt of ours.
        raise Unprocessable(
            f"Credit note {document_id} of {document.amount} {document.currency} is more than the {invoice.open_amount} "
            f"still open on invoice {invoice.invoice_id}.",
            field="amount",
        )
    entity: SettlementRecord
    if isinstance(document, PaymentIn):
        # Cash application: the invoice takes what is open on it; the rest is the buyer's
        # unapplied cash. A payment of an invoice not recorded yet is held whole until it is.
        applied = None if invoice is None else min(document.amount, invoice.open_amount)
        entity = repository.new_payment(**document.model_dump(), applied_amount=applied, from_unapplied_cash=False, created_at=context.clock.now())
    else:
        entity = CreditNote(**document.model_dump(), created_at=context.clock.now())
        repository.add(entity)
    if invoice is not None:
        await _refresh_open_amount(uow, context=context, invoice=invoice, account=account, historical=historical)
    if invoice is not None or isinstance(document, PaymentIn):
        # The invoice's buyer is the document's (checked above): its account is the one locked.
        _exposure_changed(uow, context=context, buyer_id=document.buyer_id, locked=locked, historical=historical)
    return entity, True


async def record_payment(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    payment: PaymentIn,
    invoice_must_exist: bool,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> tuple[PaymentRecord, bool]:
    entity, created = await _apply_settlement_document(
        uow,
        context=context,
        kind="Payment",
        document_id=payment.payment_id,
        document=payment,
        model=Payment,
        fields=PAYMENT_FIELDS,
        invoice_must_exist=invoice_must_exist,
        locked=locked,
        historical=historical,
    )
    assert not isinstance(entity, CreditNote)
    return entity, created


async def post_payment(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    payment: PaymentIn,
    locked: tuple[CreditAccount, LimitTerms] | None = None,
    historical: bool = False,
) -> tuple[PaymentRecord, bool]:
    entity, created = await record_payment(uow, context=context, payment=payment, invoice_must_exist=True, locked=locked, historical=historical)
    if created:
        assert entity.applied_amount is not None  # the API records payments of known invoices only
        uow.emit(
            PaymentReceivedV1(**payment.model_dump(), historical=historical, unapplied_amount=entity.amount - entity.applied_amount), subject=payment.buyer_id
        )
    return entity, created


async def record_credit_note(uow: UnitOfWork, *, context: LimitsContext, credit_note: CreditNoteIn, invoice_must_exist: bool) -> tuple[CreditNote, bool]:
    entity, created = await _apply_settlement_document(
        uow,
        context=context,
        kind="Credit note",
        document_id=credit_note.credit_note_id,
        document=credit_note,
        model=CreditNote,
        fields=CREDIT_NOTE_FIELDS,
        invoice_must_exist=invoice_must_exist,
    )
    assert isinstance(entity, CreditNote)
    return entity, created


async def post_credit_note(uow: UnitOfWork, *, context: LimitsContext, credit_note: CreditNoteIn) -> tuple[CreditNote, bool]:
    entity, created = await record_credit_note(uow, context=context, credit_note=credit_note, invoice_must_exist=True)
    if created:
        uow.emit(CreditNoteIssuedV1(**credit_note.model_dump()), subject=credit_note.buyer_id)
    return entity, created


async def refund_cash(uow: UnitOfWork, *, context: LimitsContext, buyer_id: str, refund: RefundIn, refunded_by: str) -> tuple[Refund, bool]:
    """Pay a buyer's unapplied cash back: at most what overpayments left in that currency, less
    earlier refunds (a payment still held for an unknown invoice is not free to refund).
    Idempotent by ``refund_id``."""
    repository = LedgerRepository(uow.session)
    # The account lock serialises the refund with the buyer's payments: two refunds cannot both
    # spend the same cash.
    locked = await lock_with_terms(uow, context=context, buyer_id=buyer_id)
    existing = await repository.get_refund(refund.refund_id)
    incoming = RefundOut(**refund.model_dump(), buyer_id=buyer_id, refunded_by=refunded_by)
    if existing is not None:
        _ensure_same_document("Refund", refund.refund_id, existing, incoming, REFUND_FIELDS)
        return existing, False
    problem = refund_date_problem(refunded_on=refund.refunded_on, today=context.clock.today())
    if problem is not None:
        raise Unprocessable(f"Refund {refund.refund_id}: {problem[1]}.", field=problem[0])
    refundable = await repository.refundable_cash(buyer_id=buyer_id, currency=refund.currency)
    if refund.amount > refundable:
        raise Unprocessable(
            f"Refund {refund.refund_id} of {refund.amount} {refund.currency} is more than the {refundable:.2f} {refund.currency} "
            f"of unapplied cash buyer {buyer_id} has to refund.",
            field="amount",
        )
    entity = Refund(**incoming.model_dump(), created_at=context.clock.now())
    repository.add_refund(entity)
    uow.emit(CashRefundedV1(**incoming.model_dump(), unapplied_cash_after=refundable - refund.amount), subject=buyer_id)
    _exposure_changed(uow, context=context, buyer_id=buyer_id, locked=locked)
    return entity, True


async def apply_unapplied_cash(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    buyer_id: str,
    application: CashApplicationIn,
    publish: bool = True,
) -> tuple[CashApplicationOut, bool]:
    """Settle (part of) an open invoice from the buyer's unapplied cash: at most what is open on
    it and what overpayments left free in its currency. Recorded as a payment of the invoice
    (``from_unapplied_cash``) and published as one, so scoring's and alerts' copies of the
    invoice settle too; ``publish=False`` for an application consumed from the topic, which is
    there already. Idempotent by ``application_id``."""
    repository = LedgerRepository(uow.session)
    locked = await lock_with_terms(uow, context=context, buyer_id=buyer_id)
    document = PaymentIn(
        payment_id=application.application_id,
        buyer_id=buyer_id,
        invoice_id=application.invoice_id,
        amount=application.amount,
        currency=application.currency,
        paid_on=application.applied_on,
    )
    existing = await repository.get_payment(application.application_id)
    if existing is not None:
        if not existing.from_unapplied_cash:
            raise Conflict(f"Cash application {application.application_id}: the id is a payment's.", conflicting_fields=["application_id"])
        recorded = _application_out(existing, await repository.get_invoice(existing.invoice_id))
        _ensure_same_document("Cash application", application.application_id, recorded, application, APPLICATION_FIELDS)
        return recorded, False
    invoice = await repository.get_invoice(application.invoice_id, for_update=True)
    if invoice is None:
        raise Unprocessable(f"Invoice {application.invoice_id} is unknown.", field="invoice_id")
    _check_settles_invoice("Cash application", invoice, buyer_id=buyer_id, currency=application.currency)
    problem = settlement_date_problem(
        kind="Payment", field="applied_on", dated=application.applied_on, invoice_issued_on=invoice.issued_on, today=context.clock.today()
    )
    if problem is not None:
        raise Unprocessable(f"Cash application {application.application_id}: {problem[1]}.", field=problem[0])
    if application.amount > invoice.open_amount:
        raise Unprocessable(
            f"Cash application {application.application_id} of {application.amount} {application.currency} is more than the "
            f"{invoice.open_amount} still open on invoice {invoice.invoice_id}.",
            field="amount",
        )
    free = await repository.refundable_cash(buyer_id=buyer_id, currency=application.currency)
    if application.amount > free:
        raise Unprocessable(
            f"Cash application {application.application_id} of {application.amount} {application.currency} is more than the "
            f"{free:.2f} {application.currency} of unapplied cash buyer {buyer_id} has.",
            field="amount",
        )
    entity = Payment(**document.model_dump(), applied_amount=application.amount, from_unapplied_cash=True, created_at=context.clock.now())
    repository.add(entity)
    await _refresh_open_amount(uow, context=context, invoice=invoice, account=locked[0])
    if publish:
        uow.emit(PaymentReceivedV1(**document.model_dump(), unapplied_amount=ZERO, from_unapplied_cash=True), subject=buyer_id)
    _exposure_changed(uow, context=context, buyer_id=buyer_id, locked=locked)
    return _application_out(entity, invoice), True


def _application_out(payment: PaymentRecord, invoice: InvoiceRecord | None) -> CashApplicationOut:
    return CashApplicationOut(
        application_id=payment.payment_id,
        buyer_id=payment.buyer_id,
        invoice_id=payment.invoice_id,
        amount=payment.amount,
        currency=payment.currency,
        applied_on=payment.paid_on,
        invoice_open_amount=ZERO if invoice is None else invoice.open_amount,
    )


async def buyer_cash(uow: UnitOfWork, *, buyer_id: str) -> BuyerCashOut:
    repository = LedgerRepository(uow.session)
    balances = []
    for currency, received, applied, held, refunded in await repository.cash_by_currency(buyer_id):
        refundable = received - applied - held - refunded
        balances.append(
            CashBalanceOut(
                currency=currency,
                received=received,
                applied=applied,
                held_for_unknown_invoices=held,
                refunded=refunded,
                refundable=refundable,
                unapplied_cash=refundable + held,
            )
        )
    refunds = [RefundOut.model_validate(r) for r in await repository.refunds_for_buyer(buyer_id)]
    return BuyerCashOut(buyer_id=buyer_id, balances=balances, refunds=refunds)


async def post_invoices(uow: UnitOfWork, *, context: LimitsContext, invoices: list[InvoiceIn]) -> list[tuple[InvoiceRecord, bool]]:
    """An ERP's invoice run in one transaction: each invoice recorded and published as
    ``post_invoice`` would, in the run's order, and each buyer's exposure published once. A
    document that cannot be recorded rejects the run; nothing of it is kept."""
    repository = LedgerRepository(uow.session)
    locks = await lock_many_with_terms(uow, context=context, buyer_ids={i.buyer_id for i in invoices})
    await ChecksRepository(uow.session).load_reservations({i.order_id for i in invoices if i.order_id is not None})
    # Every invoice the run asks about is read ahead (or is one of its own): its invoices can be
    # plain rows, written together.
    async with repository.documents_as_rows():
        await repository.read_ahead(invoice_ids={i.invoice_id for i in invoices})
        return [
            await document_of_batch(index, "Invoice", invoice.invoice_id, post_invoice(uow, context=context, invoice=invoice, locked=locks[invoice.buyer_id]))
            for index, invoice in enumerate(invoices)
        ]


async def post_payments(uow: UnitOfWork, *, context: LimitsContext, payments: list[PaymentIn]) -> list[tuple[PaymentRecord, bool]]:
    """A bank statement's payments in one transaction, as ``post_invoices`` does invoices."""
    repository = LedgerRepository(uow.session)
    locks = await lock_many_with_terms(uow, context=context, buyer_ids={p.buyer_id for p in payments})
    # As in an invoice run: every payment and invoice the statement asks about is read ahead.
    async with repository.documents_as_rows():
        await repository.read_ahead(invoice_ids={p.invoice_id for p in payments}, settlement_model=Payment, settlement_ids={p.payment_id for p in payments})
        return [
            await document_of_batch(index, "Payment", payment.payment_id, post_payment(uow, context=context, payment=payment, locked=locks[payment.buyer_id]))
            for index, payment in enumerate(payments)
        ]


async def document_of_batch(index: int, kind: str, document_id: str, recording: Awaitable[T]) -> T:
    """Names the document a batch was rejected for, and where it stands in the batch."""
    try:
        return await recording
    except DomainError as error:
        error.detail = f"{kind} {document_id} (item {index} of the batch): {error.detail}"
        error.args = (error.detail,)
        error.extensions = {**error.extensions, "item": index, "document_id": document_id}
        raise


async def get_invoice(uow: UnitOfWork, *, invoice_id: str) -> InvoiceRecord:
    invoice = await LedgerRepository(uow.session).get_invoice(invoice_id)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} not found.")
    return invoice


async def list_buyer_invoices(uow: UnitOfWork, *, buyer_id: str, open_only: bool) -> list[Invoice]:
    return await LedgerRepository(uow.session).invoices_for_buyer(buyer_id, open_only=open_only)


async def announce_late_payments(uow: UnitOfWork, *, context: LimitsContext) -> int:
    """payment-late for each open invoice that crossed 1, 15, 30, 60 or 90 days past due since the
    last sweep; the announced threshold is stored, so a second run the same day publishes nothing."""
    today = context.clock.today()
    announced = 0
    for invoice in await LedgerRepository(uow.session).overdue_to_announce(today=today):
        threshold = late_threshold_to_announce(due_on=invoice.due_on, today=today, announced=invoice.late_bucket_announced)
        if threshold is None:
            continue
        invoice.late_bucket_announced = threshold
        uow.emit(
            PaymentLateV1(
                invoice_id=invoice.invoice_id,
                buyer_id=invoice.buyer_id,
                days_past_due=(today - invoice.due_on).days,
                bucket=threshold,
                open_amount=invoice.open_amount,
                currency=invoice.currency,
                due_on=invoice.due_on,
                as_of=today,
            ),
            subject=invoice.buyer_id,
        )
        announced += 1
    return announced


async def run_daily_sweep(uow: UnitOfWork, *, context: LimitsContext) -> dict[str, int]:
    """Aging (payment-late), expired order reservations and ended temporary increases. Safe to
    run any number of times a day: each step records what it already did."""
    return {
        "payment_late_published": await announce_late_payments(uow, context=context),
        "buyers_with_expired_reservations": await expire_reservations(uow, context=context),
        "temporary_increases_ended": await announce_ended_increases(uow, context=context),
        "payment_experience_refreshed": await refresh_payment_experience(uow, context=context),
    }
