from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.receivables.models import Receivable, ReceivableSettlement


# In ``session.info``: the receivables and settlements a batch of events read at once. Held here
# also because the session's identity map holds objects only weakly.
_READ_AT_ONCE = "alerts.receivables_read_at_once"


@dataclass
class _ReceivablesRead:
    receivables: dict[str, Receivable | None] = field(default_factory=dict)
    settlements_by_invoice: dict[str, list[ReceivableSettlement]] = field(default_factory=dict)
    # Every settlement of ``settlement_ids`` that exists is among ``settlements``.
    settlement_ids: set[str] = field(default_factory=set)
    settlements: dict[str, ReceivableSettlement] = field(default_factory=dict)


class ReceivableRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_for_invoices(self, *, invoice_ids: set[str], settlement_ids: set[str]) -> None:
        """Read these invoices' receivables and settlements, and these settlements, at once: for a
        batch of events that asks ``get``, ``get_settlement`` and ``settlements_for`` about them."""
        read = _ReceivablesRead(settlement_ids=set(settlement_ids), settlements_by_invoice={invoice_id: [] for invoice_id in invoice_ids})
        receivables = select(Receivable).where(Receivable.invoice_id.in_(invoice_ids))
        read.receivables = dict.fromkeys(invoice_ids) | {r.invoice_id: r for r in (await self.session.execute(receivables)).scalars()}
        settlements = select(ReceivableSettlement).where(
            or_(ReceivableSettlement.invoice_id.in_(invoice_ids), ReceivableSettlement.settlement_id.in_(settlement_ids))
        )
        for settlement in (await self.session.execute(settlements)).scalars():
            read.settlements[settlement.settlement_id] = settlement
            if settlement.invoice_id in read.settlements_by_invoice:
                read.settlements_by_invoice[settlement.invoice_id].append(settlement)
        self.session.info[_READ_AT_ONCE] = read

    def _read(self) -> _ReceivablesRead:
        return self.session.info.get(_READ_AT_ONCE) or _ReceivablesRead()

    async def get(self, invoice_id: str) -> Receivable | None:
        read = self._read()
        if invoice_id in read.receivables:
            return read.receivables[invoice_id]
        return await self.session.get(Receivable, invoice_id)

    async def get_settlement(self, settlement_id: str) -> ReceivableSettlement | None:
        read = self._read()
        if settlement_id in read.settlement_ids:
            return read.settlements.get(settlement_id)
        return await self.session.get(ReceivableSettlement, settlement_id)

    async def add(self, entity: Receivable | ReceivableSettlement) -> None:
        self.session.add(entity)
        await self.session.flush()
        read = self._read()
        if isinstance(entity, Receivable):
            if entity.invoice_id in read.receivables:
                read.receivables[entity.invoice_id] = entity
        else:
            read.settlements[entity.settlement_id] = entity
            read.settlement_ids.add(entity.settlement_id)
            if entity.invoice_id in read.settlements_by_invoice:
                read.settlements_by_invoice[entity.invoice_id].append(entity)

    async def settlements_for(self, invoice_id: str) -> list[ReceivableSettlement]:
        read = self._read()
        if invoice_id in read.settlements_by_invoice:
            return list(read.settlements_by_invoice[invoice_id])
        return list((await self.session.execute(select(ReceivableSettlement).where(ReceivableSettlement.invoice_id == invoice_id))).scalars())

    async def for_buyer(self, buyer_id: str, *, open_only: bool) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.buyer_id == buyer_id).order_by(Receivable.due_on, Receivable.invoice_id)
        if open_only:
            statement = statement.where(Receivable.open_amount > 0)
        return list((await self.session.execute(statement)).scalars())

    async def overdue_open(self, *, today: date) -> list[Receivable]:
        statement = select(Receivable).where(Receivable.open_amount > 0, Receivable.due_on < today).order_by(Receivable.due_on, Receivable.invoice_id)
        return list((await self.session.execute(statement)).scalars())
