from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.ledger.models import CreditNote, Invoice, Payment


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_invoice(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        statement = select(Invoice).where(Invoice.invoice_id == invoice_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_payment(self, payment_id: str) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def get_credit_note(self, credit_note_id: str) -> CreditNote | None:
        return await self.session.get(CreditNote, credit_note_id)

    async def add(self, entity: Invoice | Payment | CreditNote) -> None:
        self.session.add(entity)
        await self.session.flush()

    async def settled_amount(self, invoice_id: str) -> Decimal:
        """Payments plus credit notes recorded against an invoice."""
        paid = (await self.session.execute(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.invoice_id == invoice_id))).scalar_one()
        credited = (await self.session.execute(select(func.coalesce(func.sum(CreditNote.amount), 0)).where(CreditNote.invoice_id == invoice_id))).scalar_one()
        return Decimal(paid) + Decimal(credited)

    async def invoices_for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Invoice]:
        statement = select(Invoice).where(Invoice.buyer_id == buyer_id).order_by(Invoice.due_on, Invoice.invoice_id)
        if open_only:
            statement = statement.where(Invoice.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())
