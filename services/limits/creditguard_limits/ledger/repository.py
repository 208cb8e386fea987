from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.ledger.models import CreditNote, Invoice, Payment
from creditguard_limits.ledger.rules import LATE_THRESHOLDS


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_invoice(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        statement = select(Invoice).where(Invoice.invoice_id == invoice_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_settlement(self, model: type[Payment] | type[CreditNote], document_id: str) -> Payment | CreditNote | None:
        return await self.session.get(model, document_id)

    async def add(self, entity: Invoice | Payment | CreditNote) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def settlements(self, invoice_id: str) -> list[tuple[date, Decimal]]:
        """Payments and credit notes recorded against an invoice, with their dates."""
        payments = select(Payment.paid_on, Payment.amount).where(Payment.invoice_id == invoice_id)
        credit_notes = select(CreditNote.issued_on, CreditNote.amount).where(CreditNote.invoice_id == invoice_id)
        rows = (await self.session.execute(union_all(payments, credit_notes))).all()
        return [(on, Decimal(amount)) for on, amount in rows]

    async def overdue_to_announce(self, *, today: date) -> list[Invoice]:
        """Open invoices that crossed a days-past-due threshold they have not announced yet. Only
        those are loaded: the sweep's cost follows the day's crossings, not the overdue book."""
        crossed_unannounced = or_(*(
            and_(Invoice.late_bucket_announced < threshold, Invoice.due_on <= today - timedelta(days=threshold))
            for threshold in LATE_THRESHOLDS
        ))
        statement = (
            select(Invoice)
            .where(Invoice.open_amount > 0, crossed_unannounced)
            .order_by(Invoice.buyer_id, Invoice.due_on, Invoice.invoice_id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def invoices_for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Invoice]:
        statement = select(Invoice).where(Invoice.buyer_id == buyer_id).order_by(Invoice.due_on, Invoice.invoice_id)
        if open_only:
            statement = statement.where(Invoice.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())
