"""Ledger rules. ``record_*`` apply an ERP document idempotently (same id and content: no-op;
same id, other content: conflict); ``post_*`` also publish it, for documents that entered
through REST. Kafka handlers call ``record_*`` because the event is already on the topic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from creditguard_limits.ledger.models import CreditNote, Invoice, Payment
from creditguard_limits.ledger.repository import LedgerRepository
from creditguard_limits.ledger.schemas import CreditNoteIn, InvoiceIn, PaymentIn
from creditguard_shared.errors import Conflict, NotFound, Unprocessable
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.unit_of_work import UnitOfWork

INVOICE_FIELDS = ("buyer_id", "order_id", "amount", "currency", "issued_on", "due_on")
PAYMENT_FIELDS = ("buyer_id", "invoice_id", "amount", "currency", "paid_on")
CREDIT_NOTE_FIELDS = ("buyer_id", "invoice_id", "amount", "currency", "issued_on")


def _ensure_same_document(kind: str, document_id: str, stored: object, incoming: object, fields: tuple[str, ...]) -> None:
    differing = [f for f in fields if getattr(stored, f) != getattr(incoming, f)]
    if differing:
        raise Conflict(
            f"{kind} {document_id} was already recorded with different {', '.join(differing)}.",
            conflicting_fields=differing,
        )


async def _refresh_open_amount(repository: LedgerRepository, invoice: Invoice) -> None:
    settled = await repository.settled_amount(invoice.invoice_id)
    invoice.open_amount = max(invoice.amount - settled, Decimal("0.00"))


def _check_settles_invoice(kind: str, invoice: Invoice, *, buyer_id: str, currency: str) -> None:
    if invoice.buyer_id != buyer_id:
        raise Unprocessable(f"{kind} names buyer {buyer_id}, but invoice {invoice.invoice_id} belongs to {invoice.buyer_id}.")
    if invoice.currency != currency:
        raise Unprocessable(f"{kind} is in {currency}, but invoice {invoice.invoice_id} is in {invoice.currency}.")


async def record_invoice(uow: UnitOfWork, *, invoice: InvoiceIn) -> tuple[Invoice, bool]:
    repository = LedgerRepository(uow.session)
    existing = await repository.get_invoice(invoice.invoice_id)
    if existing is not None:
        _ensure_same_document("Invoice", invoice.invoice_id, existing, invoice, INVOICE_FIELDS)
        return existing, False
    entity = Invoice(**invoice.model_dump(), open_amount=invoice.amount, created_at=datetime.now(UTC))
    await repository.add(entity)
    # Payments or credit notes consumed before their invoice (another topic) count at once.
    await _refresh_open_amount(repository, entity)
    return entity, True


async def post_invoice(uow: UnitOfWork, *, invoice: InvoiceIn) -> tuple[Invoice, bool]:
    entity, created = await record_invoice(uow, invoice=invoice)
    if created:
        uow.emit(InvoicePostedV1(**invoice.model_dump()), subject=invoice.buyer_id)
    return entity, created


async def record_payment(uow: UnitOfWork, *, payment: PaymentIn, invoice_must_exist: bool) -> tuple[Payment, bool]:
    repository = LedgerRepository(uow.session)
    existing = await repository.get_payment(payment.payment_id)
    if existing is not None:
        _ensure_same_document("Payment", payment.payment_id, existing, payment, PAYMENT_FIELDS)
        return existing, False
    invoice = await repository.get_invoice(payment.invoice_id, for_update=True)
    if invoice is None and invoice_must_exist:
        raise Unprocessable(f"Invoice {payment.invoice_id} is unknown; post the invoice first.", field="invoice_id")
    if invoice is not None:
        _check_settles_invoice("Payment", invoice, buyer_id=payment.buyer_id, currency=payment.currency)
    entity = Payment(**payment.model_dump(), created_at=datetime.now(UTC))
    await repository.add(entity)
    if invoice is not None:
        await _refresh_open_amount(repository, invoice)
    return entity, True


async def post_payment(uow: UnitOfWork, *, payment: PaymentIn) -> tuple[Payment, bool]:
    entity, created = await record_payment(uow, payment=payment, invoice_must_exist=True)
    if created:
        uow.emit(PaymentReceivedV1(**payment.model_dump()), subject=payment.buyer_id)
    return entity, created


async def record_credit_note(uow: UnitOfWork, *, credit_note: CreditNoteIn, invoice_must_exist: bool) -> tuple[CreditNote, bool]:
    repository = LedgerRepository(uow.session)
    existing = await repository.get_credit_note(credit_note.credit_note_id)
    if existing is not None:
        _ensure_same_document("Credit note", credit_note.credit_note_id, existing, credit_note, CREDIT_NOTE_FIELDS)
        return existing, False
    invoice = await repository.get_invoice(credit_note.invoice_id, for_update=True)
    if invoice is None and invoice_must_exist:
        raise Unprocessable(f"Invoice {credit_note.invoice_id} is unknown; post the invoice first.", field="invoice_id")
    if invoice is not None:
        _check_settles_invoice("Credit note", invoice, buyer_id=credit_note.buyer_id, currency=credit_note.currency)
    entity = CreditNote(**credit_note.model_dump(), created_at=datetime.now(UTC))
    await repository.add(entity)
    if invoice is not None:
        await _refresh_open_amount(repository, invoice)
    return entity, True


async def post_credit_note(uow: UnitOfWork, *, credit_note: CreditNoteIn) -> tuple[CreditNote, bool]:
    entity, created = await record_credit_note(uow, credit_note=credit_note, invoice_must_exist=True)
    if created:
        uow.emit(CreditNoteIssuedV1(**credit_note.model_dump()), subject=credit_note.buyer_id)
    return entity, created


async def get_invoice(uow: UnitOfWork, *, invoice_id: str) -> Invoice:
    invoice = await LedgerRepository(uow.session).get_invoice(invoice_id)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} not found.")
    return invoice


async def list_buyer_invoices(uow: UnitOfWork, *, buyer_id: str, open_only: bool) -> list[Invoice]:
    return await LedgerRepository(uow.session).invoices_for_buyer(buyer_id, open_only=open_only)
