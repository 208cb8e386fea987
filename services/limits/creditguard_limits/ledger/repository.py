from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import and_, case, func, literal, or_, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.database import Base
from creditguard_limits.fx.rules import to_cents
from creditguard_limits.ledger.rules import LATE_THRESHOLDS
from creditguard_limits.models.ledger import CreditNote, Invoice, Payment, Refund
from creditguard_limits.position.repository import unapplied_cash_rows
from creditguard_shared.database import Money
from creditguard_shared.held import Held
from creditguard_shared.prepared import insert_of_every_column

SettlementModel = type[Payment] | type[CreditNote]


@dataclass(slots=True)
class NewInvoice:
    """An invoice a batch records, as a plain row: the columns of ``invoices``. A batch's new
    documents are written together, one statement per table (``new_documents_as_rows``), where
    ORM entities would cost their construction and their flush each."""

    invoice_id: str
    buyer_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    open_amount: Decimal
    settled_on: date | None
    order_id: str | None
    late_bucket_announced: int
    created_at: datetime


@dataclass(slots=True)
class NewPayment:
    """A payment a batch records, as a plain row: the columns of ``payments`` (see ``NewInvoice``)."""

    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    paid_on: date
    applied_amount: Decimal | None
    from_unapplied_cash: bool
    created_at: datetime


# An invoice or payment as the ledger's rules read and settle it: loaded (or new) as an entity,
# or new as a row.
InvoiceRecord = Invoice | NewInvoice
PaymentRecord = Payment | NewPayment
SettlementRecord = Payment | NewPayment | CreditNote


_COLUMNS = {row_type: tuple(f.name for f in fields(row_type)) for row_type in (NewInvoice, NewPayment)}


@dataclass
class _LedgerRead:
    """Every invoice and settlement of the ids read, None where there is none; the settlements of
    each invoice read. What the batch records joins in, so later documents of the batch see it."""

    invoices: dict[str, InvoiceRecord | None] = field(default_factory=dict)
    # Keyed by the settlement's model (Payment or CreditNote), each holding that model's documents.
    settlements: dict[type[Base], dict[str, SettlementRecord | None]] = field(default_factory=dict)
    settlements_of_invoice: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)
    # While a batch records its new documents as rows (``new_documents_as_rows``): those not written yet.
    unwritten: list[NewInvoice | NewPayment] | None = None


# The documents a batch read at once (see LedgerRepository.read_ahead).
_READ_AHEAD: Held[_LedgerRead] = Held("limits.ledger_read_ahead", _LedgerRead)


def _settled_on(document: SettlementRecord) -> date:
    return document.issued_on if isinstance(document, CreditNote) else document.paid_on


def _settling_amount(document: SettlementRecord) -> Decimal:
    """What the document takes off its invoice: a payment only its applied part (the rest is
    unapplied cash), a payment still held for its invoice all of it."""
    if not isinstance(document, CreditNote) and document.applied_amount is not None:
        return document.applied_amount
    return document.amount


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _read(self) -> _LedgerRead | None:
        return _READ_AHEAD.peek(self.session)

    async def read_ahead(
        self, *, invoice_ids: set[str], settlement_model: SettlementModel | None = None, settlement_ids: AbstractSet[str] = frozenset()
    ) -> None:
        """Read a batch's invoices, their settlements and the batch's settlement ids in three
        statements, for the questions its documents will ask one by one. Call it with the
        documents' buyers locked: what is read must not change before the batch writes."""
        read = _READ_AHEAD.get(self.session)
        found = {i.invoice_id: i for i in (await self.session.execute(select(Invoice).where(Invoice.invoice_id.in_(invoice_ids)))).scalars()}
        read.invoices.update({invoice_id: found.get(invoice_id) for invoice_id in invoice_ids})
        settlements_of_invoice: dict[str, list[tuple[date, Decimal]]] = {invoice_id: [] for invoice_id in invoice_ids}
        for invoice_id, on, amount in (await self.session.execute(_settlements_of(invoice_ids))).all():
            settlements_of_invoice[invoice_id].append((on, Decimal(amount)))
        read.settlements_of_invoice.update(settlements_of_invoice)
        if settlement_model is not None:
            key = settlement_model.__mapper__.primary_key[0]
            found_settlements = (await self.session.execute(select(settlement_model).where(key.in_(settlement_ids)))).scalars()
            documents: dict[str, Payment | CreditNote] = {getattr(d, str(key.key)): cast("Payment | CreditNote", d) for d in found_settlements}
            read.settlements.setdefault(settlement_model, {}).update({i: documents.get(i) for i in settlement_ids})

    @contextlib.asynccontextmanager
    async def new_documents_as_rows(self) -> AsyncIterator[None]:
        """Within: ``new_invoice`` and ``new_payment`` answer plain rows, written when the block
        ends without an error, one statement per table (after an error nothing is written: the
        transaction is rolled back). Only for a batch whose every question about an invoice or a
        payment is answered by ``read_ahead``: until the block ends, the database does not hold
        the new documents."""
        read = _READ_AHEAD.get(self.session)
        read.unwritten = []
        try:
            yield
            rows = read.unwritten
        finally:
            read.unwritten = None
        for row_type, table in ((NewInvoice, Invoice.__table__), (NewPayment, Payment.__table__)):
            names = _COLUMNS[row_type]
            await insert_of_every_column(table).run_many(self.session, [{name: getattr(row, name) for name in names} for row in rows if type(row) is row_type])

    def new_invoice(self, **columns: Any) -> InvoiceRecord:
        """A new invoice of these columns: an entity written at the next flush, or a row (see
        ``new_documents_as_rows``). Later documents of a batch see it."""
        read = self._read
        invoice: InvoiceRecord
        if read is not None and read.unwritten is not None:
            invoice = NewInvoice(**columns)
            read.unwritten.append(invoice)
        else:
            invoice = Invoice(**columns)
            self.session.add(invoice)
        if read is not None:
            read.invoices[invoice.invoice_id] = invoice
            read.settlements_of_invoice.setdefault(invoice.invoice_id, [])
        return invoice

    def new_payment(self, **columns: Any) -> PaymentRecord:
        """A new payment of these columns, as ``new_invoice`` makes invoices."""
        read = self._read
        if read is not None and read.unwritten is not None:
            payment = NewPayment(**columns)
            read.unwritten.append(payment)
            self._joins_read_ahead(payment, model=Payment)
            return payment
        entity = Payment(**columns)
        self.add(entity)
        return entity

    async def get_invoice(self, invoice_id: str, *, for_update: bool = False) -> InvoiceRecord | None:
        read = self._read
        if read is not None and invoice_id in read.invoices:
            return read.invoices[invoice_id]
        statement = select(Invoice).where(Invoice.invoice_id == invoice_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_settlement(self, model: SettlementModel, document_id: str) -> SettlementRecord | None:
        read = self._read
        if read is not None and document_id in read.settlements.get(model, {}):
            # Each model's documents are kept under that model.
            return read.settlements[model][document_id]
        return await self.session.get(model, document_id)

    async def get_payment(self, payment_id: str) -> PaymentRecord | None:
        found = await self.get_settlement(Payment, payment_id)
        assert not isinstance(found, CreditNote)
        return found

    def add(self, entity: Payment | CreditNote) -> None:
        """Written at the next flush: the next query, or the commit. A batch's documents go
        to the database together."""
        self.session.add(entity)
        self._joins_read_ahead(entity, model=type(entity))

    def _joins_read_ahead(self, document: SettlementRecord, *, model: SettlementModel) -> None:
        read = self._read
        if read is None:
            return
        if model in read.settlements:
            read.settlements[model][document.credit_note_id if isinstance(document, CreditNote) else document.payment_id] = document
        if document.invoice_id in read.settlements_of_invoice:
            read.settlements_of_invoice[document.invoice_id].append((_settled_on(document), _settling_amount(document)))

    async def settlements(self, invoice_id: str) -> list[tuple[date, Decimal]]:
        """Payments and credit notes recorded against an invoice, with their dates."""
        read = self._read
        if read is not None and invoice_id in read.settlements_of_invoice:
            return list(read.settlements_of_invoice[invoice_id])
        rows = (await self.session.execute(_settlements_of({invoice_id}))).all()
        return [(on, Decimal(amount)) for _, on, amount in rows]

    async def settlement_documents(self, invoice_id: str) -> tuple[list[Payment], list[CreditNote]]:
        """The invoice's payments (by date, then id) and credit notes, as documents."""
        payments = (await self.session.execute(select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.paid_on, Payment.payment_id))).scalars()
        credit_notes = (await self.session.execute(select(CreditNote).where(CreditNote.invoice_id == invoice_id))).scalars()
        return list(payments), list(credit_notes)

    def settlements_changed(self, invoice_id: str, settlements: list[tuple[date, Decimal]]) -> None:
        """What the batch read ahead for the invoice, after its held payments were applied."""
        read = self._read
        if read is not None:
            read.settlements_of_invoice[invoice_id] = list(settlements)

    async def refundable_cash(self, *, buyer_id: str, currency: str) -> Decimal:
        """The buyer's unapplied cash in ``currency`` that is free to refund or apply: overpayments
        less cash applications and refunds, not payments still held for an unknown invoice."""
        cash = unapplied_cash_rows(Payment.buyer_id == buyer_id, Refund.buyer_id == buyer_id, currency=currency, held=False)
        return to_cents(Decimal((await self.session.execute(select(type_coerce(func.coalesce(func.sum(cash.c.amount), 0), Money())))).scalar_one()))

    async def get_refund(self, refund_id: str) -> Refund | None:
        return await self.session.get(Refund, refund_id)

    def add_refund(self, refund: Refund) -> None:
        self.session.add(refund)

    async def refunds_for_buyer(self, buyer_id: str) -> list[Refund]:
        return list((await self.session.execute(select(Refund).where(Refund.buyer_id == buyer_id).order_by(Refund.refunded_on, Refund.refund_id))).scalars())

    async def cash_by_currency(self, buyer_id: str) -> list[tuple[str, Decimal, Decimal, Decimal, Decimal]]:
        """(currency, received, applied to invoices (cash applications too), held for unknown
        invoices, refunded) of the buyer's cash, by currency."""
        payments = select(
            Payment.currency.label("currency"),
            case((Payment.from_unapplied_cash, 0), else_=Payment.amount).label("received"),
            func.coalesce(Payment.applied_amount, 0).label("applied"),
            case((Payment.applied_amount.is_(None), Payment.amount), else_=0).label("held"),
            literal(0).label("refunded"),
        ).where(Payment.buyer_id == buyer_id)
        refunds = select(Refund.currency, literal(0), literal(0), literal(0), Refund.amount).where(Refund.buyer_id == buyer_id)
        rows = union_all(payments, refunds).subquery("cash")
        statement = (
            # Typed as money: a CASE whose first branch is a literal 0 would otherwise read SQLite's cents as units.
            select(rows.c.currency, *(type_coerce(func.sum(column), Money()) for column in (rows.c.received, rows.c.applied, rows.c.held, rows.c.refunded)))
            .group_by(rows.c.currency)
            .order_by(rows.c.currency)
        )
        return [(currency, *(to_cents(Decimal(total)) for total in totals)) for currency, *totals in (await self.session.execute(statement)).all()]

    async def overdue_to_announce(self, *, today: date) -> list[Invoice]:
        """Open invoices that crossed a days-past-due threshold they have not announced yet. Only
        those are loaded: the sweep's cost follows the day's crossings, not the overdue book."""
        crossed_unannounced = or_(
            *(and_(Invoice.late_bucket_announced < threshold, Invoice.due_on <= today - timedelta(days=threshold)) for threshold in LATE_THRESHOLDS)
        )
        statement = select(Invoice).where(Invoice.open_amount > 0, crossed_unannounced).order_by(Invoice.buyer_id, Invoice.due_on, Invoice.invoice_id)
        return list((await self.session.execute(statement)).scalars())

    async def invoices_for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Invoice]:
        statement = select(Invoice).where(Invoice.buyer_id == buyer_id).order_by(Invoice.due_on, Invoice.invoice_id)
        if open_only:
            statement = statement.where(Invoice.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())


def _settlements_of(invoice_ids: set[str]):
    # A payment settles its applied part; one held for its (then unknown) invoice, all of it.
    payments = select(Payment.invoice_id, Payment.paid_on, func.coalesce(Payment.applied_amount, Payment.amount)).where(Payment.invoice_id.in_(invoice_ids))
    credit_notes = select(CreditNote.invoice_id, CreditNote.issued_on, CreditNote.amount).where(CreditNote.invoice_id.in_(invoice_ids))
    return union_all(payments, credit_notes)
