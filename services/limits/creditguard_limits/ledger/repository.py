from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import String, and_, bindparam, case, func, literal, or_, select, type_coerce, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from creditguard_limits.accounts.repository import AccountsRepository
from creditguard_limits.database import Base
from creditguard_limits.fx.rules import to_cents
from creditguard_limits.ledger.rules import LATE_THRESHOLDS, BuyerPaymentRecord
from creditguard_limits.models.accounts import CreditAccount
from creditguard_limits.models.ledger import CreditNote, Invoice, Payment, Refund
from creditguard_limits.position.repository import unapplied_cash_rows
from creditguard_shared.database import Money
from creditguard_shared.held import Held
from creditguard_shared.prepared import PreparedStatement, insert_of_every_column

SettlementModel = type[Payment] | type[CreditNote]


@dataclass(slots=True)
class InvoiceRow:
    """An invoice of a batch as a plain row: the columns of ``invoices``. Inside
    ``documents_as_rows`` a batch's new invoices are made as rows and the invoices it reads ahead
    come back as rows; the new ones are written together (one INSERT) and the changed ones too
    (one UPDATE), where ORM entities would cost their construction, change tracking and flush each."""

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
class PaymentRow:
    """A payment a batch records, as a plain row: the columns of ``payments`` (see ``InvoiceRow``)."""

    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    paid_on: date
    applied_amount: Decimal | None
    from_unapplied_cash: bool
    created_at: datetime


# An invoice or payment as the ledger's rules read and settle it: an entity, or a batch's row.
InvoiceRecord = Invoice | InvoiceRow
PaymentRecord = Payment | PaymentRow
SettlementRecord = Payment | PaymentRow | CreditNote


_COLUMNS = {row_type: tuple(f.name for f in fields(row_type)) for row_type in (InvoiceRow, PaymentRow)}
_INVOICE_ROW_COLUMNS = [Invoice.__table__.c[name] for name in _COLUMNS[InvoiceRow]]
_SETTLE_INVOICE = PreparedStatement(
    update(Invoice)
    .where(Invoice.invoice_id == bindparam("settled_invoice_id", type_=String))
    .values(open_amount=bindparam("open_amount", type_=Invoice.open_amount.type), settled_on=bindparam("settled_on", type_=Invoice.settled_on.type))
)


@dataclass
class _LedgerRead:
    """Every invoice and settlement of the ids read, None where there is none; the settlements of
    each invoice read. What the batch records joins in, so later documents of the batch see it."""

    invoices: dict[str, InvoiceRecord | None] = field(default_factory=dict)
    # Keyed by the settlement's model (Payment or CreditNote), each holding that model's documents.
    settlements: dict[type[Base], dict[str, SettlementRecord | None]] = field(default_factory=dict)
    settlements_of_invoice: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)
    # While a batch works on rows (``documents_as_rows``): its new documents, not written yet; the
    # ids of the invoices it read as rows, and those of them it changed.
    unwritten: list[InvoiceRow | PaymentRow] | None = None
    invoices_read_as_rows: set[str] = field(default_factory=set)
    changed_invoices: dict[str, InvoiceRow] = field(default_factory=dict)
    # The accounts whose payment record the batch changed (``set_payment_record``).
    changed_payment_records: dict[str, CreditAccount] = field(default_factory=dict)


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
        documents' buyers locked: what is read must not change before the batch writes. Inside
        ``documents_as_rows`` the invoices come back as rows (``InvoiceRow``)."""
        read = _READ_AHEAD.get(self.session)
        found: dict[str, InvoiceRecord]
        if read.unwritten is not None:
            statement = select(*_INVOICE_ROW_COLUMNS).where(Invoice.invoice_id.in_(invoice_ids))
            found = {row.invoice_id: row for row in (InvoiceRow(*values) for values in (await self.session.execute(statement)).all())}
            read.invoices_read_as_rows.update(found)
        else:
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
    async def documents_as_rows(self) -> AsyncIterator[None]:
        """Within: ``new_invoice`` and ``new_payment`` answer plain rows, and ``read_ahead`` reads
        invoices as rows; the new documents and the changes to the invoices read (``settle``) are
        written when the block ends without an error, one statement per table (after an error
        nothing is written: the transaction is rolled back). Only for a batch whose every
        question about an invoice or a payment is answered by ``read_ahead``, called inside:
        until the block ends, the database does not hold the batch's documents."""
        read = _READ_AHEAD.get(self.session)
        read.unwritten = []
        try:
            yield
            rows, changed, payment_records = read.unwritten, list(read.changed_invoices.values()), list(read.changed_payment_records.values())
        finally:
            read.unwritten = None
            read.invoices_read_as_rows, read.changed_invoices, read.changed_payment_records = set(), {}, {}
            # A later question about one of the batch's invoices goes to the database, which holds
            # it now, and gets an entity whose changes the session writes.
            for invoice_id in [i for i, invoice in read.invoices.items() if isinstance(invoice, InvoiceRow)]:
                del read.invoices[invoice_id]
        for row_type, table in ((InvoiceRow, Invoice.__table__), (PaymentRow, Payment.__table__)):
            names = _COLUMNS[row_type]
            await insert_of_every_column(table).run_many(self.session, [{name: getattr(row, name) for name in names} for row in rows if type(row) is row_type])
        await _SETTLE_INVOICE.run_many(
            self.session, [{"settled_invoice_id": i.invoice_id, "open_amount": i.open_amount, "settled_on": i.settled_on} for i in changed]
        )
        await AccountsRepository(self.session).save_payment_records(payment_records)

    def set_payment_record(self, account: CreditAccount, record: BuyerPaymentRecord) -> None:
        """Inside ``documents_as_rows`` the entity takes the record as committed values, which the
        session does not flush, and the block writes every changed record in one statement;
        outside, they are ordinary changes."""
        read = self._read
        if read is None or read.unwritten is None:
            account.invoices_settled, account.invoices_paid_on_time, account.days_late_total = record
            return
        for name, value in record._asdict().items():
            set_committed_value(account, name, value)
        read.changed_payment_records[account.buyer_id] = account

    def settle(self, invoice: InvoiceRecord, *, open_amount: Decimal, settled_on: date | None) -> None:
        """What is still open on the invoice, and the day it was settled (None while open)."""
        invoice.open_amount, invoice.settled_on = open_amount, settled_on
        read = self._read
        if read is not None and isinstance(invoice, InvoiceRow) and invoice.invoice_id in read.invoices_read_as_rows:
            read.changed_invoices[invoice.invoice_id] = invoice

    def new_invoice(self, **columns: Any) -> InvoiceRecord:
        """A new invoice of these columns: an entity written at the next flush, or a row (see
        ``documents_as_rows``). Later documents of a batch see it."""
        read = self._read
        invoice: InvoiceRecord
        if read is not None and read.unwritten is not None:
            invoice = InvoiceRow(**columns)
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
            payment = PaymentRow(**columns)
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
