"""How payments and credit notes settle an invoice, for the services that keep a copy of the
receivables from the event stream (their events may arrive in any order across topics)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Self

from sqlalchemy import Date, String, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_shared.database import Money
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentLateV1, PaymentReceivedV1

# The events a receivables copy is kept from.
ReceivablesEvent = InvoicePostedV1 | PaymentReceivedV1 | CreditNoteIssuedV1 | PaymentLateV1


class InvoiceColumns:
    """The columns every invoice record starts with: limits' ledger and the copies scoring and
    alerts keep from ``invoice-posted``. Each mapped class adds what it tracks of its own (the
    order, days past due, collection steps)."""

    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    open_amount: Mapped[Decimal] = mapped_column(Money)
    # The date the open amount reached zero; days beyond terms are measured to it.
    settled_on: Mapped[date | None] = mapped_column(Date)

    @classmethod
    def copy_of(cls, event: InvoicePostedV1, **own_columns: Any) -> Self:
        """A new copy of the posted invoice, nothing settled yet."""
        columns: dict[str, Any] = {
            "invoice_id": event.invoice_id,
            "buyer_id": event.buyer_id,
            "amount": event.amount,
            "currency": event.currency,
            "issued_on": event.issued_on,
            "due_on": event.due_on,
            "open_amount": event.amount,
            "settled_on": None,
        }
        return cls(**columns, **own_columns)


@dataclass(frozen=True)
class SettlementState:
    open_amount: Decimal
    # The date the open amount first reached zero, or None while anything is open.
    settled_on: date | None


def settle(amount: Decimal, settlements: Iterable[tuple[date, Decimal]]) -> SettlementState:
    remaining = amount
    settled_on: date | None = None
    for on, settled_amount in sorted(settlements, key=lambda s: s[0]):
        remaining -= settled_amount
        if remaining <= 0 and settled_on is None:
            settled_on = on
    return SettlementState(open_amount=max(remaining, Decimal("0.00")), settled_on=settled_on)


def settlement_id_of(event: PaymentReceivedV1 | CreditNoteIssuedV1) -> str:
    """Payments and credit notes settle alike and share one table in each copy, keyed by kind and id."""
    return f"payment:{event.payment_id}" if isinstance(event, PaymentReceivedV1) else f"credit_note:{event.credit_note_id}"


def settlement_ids_of(events: Iterable[ReceivablesEvent]) -> set[str]:
    return {settlement_id_of(event) for event in events if isinstance(event, PaymentReceivedV1 | CreditNoteIssuedV1)}


class ReceivablesReadAhead:
    """A batch's invoices (the service's own copy of each) and their settlements, read at once: for
    a batch of receivables events whose handlers ask, event by event, for an invoice, a settlement
    by id and an invoice's settlements. The service's repository asks here first and the database
    only for what was not read; what the batch adds joins in (``added``).

    ``documents`` and ``settlements`` are the service's mapped classes; both have ``invoice_id``,
    settlements also ``settlement_id`` and ``settled_on``."""

    def __init__(self, *, documents: type[Any], settlements: type[Any]) -> None:
        self._document_model, self._settlement_model = documents, settlements
        self._documents: dict[str, Any] = {}
        self._settlements_by_invoice: dict[str, list[Any]] = {}
        # Every settlement of these ids that exists is in ``_settlements``.
        self._settlement_ids: set[str] = set()
        self._settlements: dict[str, Any] = {}

    async def read(self, session: AsyncSession, *, invoice_ids: set[str], settlement_ids: set[str]) -> None:
        """The invoices and their settlements, and these settlements (of any invoice): two statements."""
        documents, settlements = self._document_model, self._settlement_model
        found = (await session.execute(select(documents).where(documents.invoice_id.in_(invoice_ids)))).scalars()
        self._documents.update(dict.fromkeys(invoice_ids) | {d.invoice_id: d for d in found})
        self._settlements_by_invoice.update({invoice_id: [] for invoice_id in invoice_ids})
        self._settlement_ids.update(settlement_ids)
        statement = (
            select(settlements)
            .where(or_(settlements.invoice_id.in_(invoice_ids), settlements.settlement_id.in_(settlement_ids)))
            .order_by(settlements.settled_on)
        )
        for settlement in (await session.execute(statement)).scalars():
            self._remember(settlement)

    def document(self, invoice_id: str) -> tuple[bool, Any]:
        """(whether it was read, the invoice or None)."""
        return (True, self._documents[invoice_id]) if invoice_id in self._documents else (False, None)

    def settlement(self, settlement_id: str) -> tuple[bool, Any]:
        return (True, self._settlements.get(settlement_id)) if settlement_id in self._settlement_ids else (False, None)

    def settlements_for(self, invoice_id: str) -> list[Any] | None:
        """The invoice's settlements by date, or None if it was not read."""
        found = self._settlements_by_invoice.get(invoice_id)
        return None if found is None else list(found)

    def added(self, entity: object) -> None:
        if isinstance(entity, self._document_model):
            if entity.invoice_id in self._documents:
                self._documents[entity.invoice_id] = entity
        elif isinstance(entity, self._settlement_model):
            self._settlement_ids.add(entity.settlement_id)
            self._remember(entity)
            self._settlements_by_invoice.get(entity.invoice_id, []).sort(key=lambda s: s.settled_on)

    def _remember(self, settlement: Any) -> None:
        self._settlements[settlement.settlement_id] = settlement
        if settlement.invoice_id in self._settlements_by_invoice:
            self._settlements_by_invoice[settlement.invoice_id].append(settlement)
