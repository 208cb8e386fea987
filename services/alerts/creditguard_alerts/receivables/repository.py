from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.models.receivables import Receivable, ReceivableSettlement
from creditguard_shared.held import Held
from creditguard_shared.receivables import ReceivablesReadAhead

# The receivables and settlements a batch of events read at once. Held here also because the
# session's identity map holds objects only weakly.
_READ_AT_ONCE: Held[ReceivablesReadAhead] = Held("alerts.receivables_read_at_once")


class ReceivableRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_for_invoices(self, *, invoice_ids: set[str], settlement_ids: set[str]) -> None:
        """Read these invoices' receivables and settlements, and these settlements, at once: for a
        batch of events that asks ``get``, ``get_settlement`` and ``settlements_for`` about them."""
        read = ReceivablesReadAhead(documents=Receivable, settlements=ReceivableSettlement)
        await read.read(self.session, invoice_ids=invoice_ids, settlement_ids=settlement_ids)
        _READ_AT_ONCE.put(self.session, read)

    def _read(self) -> ReceivablesReadAhead:
        read = _READ_AT_ONCE.peek(self.session)
        # Nothing read ahead: an empty one, kept for the unit of work, sends every question to the database.
        if read is None:
            read = _READ_AT_ONCE.put(self.session, ReceivablesReadAhead(documents=Receivable, settlements=ReceivableSettlement))
        return read

    async def get(self, invoice_id: str) -> Receivable | None:
        found, receivable = self._read().document(invoice_id)
        return receivable if found else await self.session.get(Receivable, invoice_id)

    async def get_settlement(self, settlement_id: str) -> ReceivableSettlement | None:
        found, settlement = self._read().settlement(settlement_id)
        return settlement if found else await self.session.get(ReceivableSettlement, settlement_id)

    async def add(self, entity: Receivable | ReceivableSettlement) -> None:
        self.session.add(entity)
        await self.session.flush()
        self._read().added(entity)

    async def settlements_for(self, invoice_id: str) -> list[ReceivableSettlement]:
        read = self._read().settlements_for(invoice_id)
        if read is not None:
            return read
        return list((await self.session.execute(select(ReceivableSettlement).where(ReceivableSettlement.invoice_id == invoice_id))).scalars())

    async def for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.buyer_id == buyer_id).order_by(Receivable.due_on, Receivable.invoice_id)
        if open_only:
            statement = statement.where(Receivable.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())

    async def overdue_open(self, *, today: date) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.open_amount > 0, Receivable.due_on < today).order_by(Receivable.due_on, Receivable.invoice_id)
        return list((await self.session.execute(statement)).scalars())
