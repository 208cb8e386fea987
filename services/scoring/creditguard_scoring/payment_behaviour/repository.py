from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.payment_behaviour.models import PaymentExperience, Settlement


# In ``session.info``: the payment experiences of the buyers a pass read at once, by due date; and
# the experiences and settlements of the invoices a batch of events read at once. Held here also
# because the session's identity map holds objects only weakly.
_EXPERIENCES = "scoring.experiences_by_buyer"
_INVOICES = "scoring.receivables_read_at_once"


@dataclass
class _InvoicesRead:
    experiences: dict[str, PaymentExperience | None] = field(default_factory=dict)
    settlements_by_invoice: dict[str, list[Settlement]] = field(default_factory=dict)
    # Every settlement of ``settlement_ids`` that exists is among ``settlements``.
    settlement_ids: set[str] = field(default_factory=set)
    settlements: dict[str, Settlement] = field(default_factory=dict)


class PaymentBehaviourRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_experiences_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read these buyers' payment experiences at once, for a pass that asks ``experiences_for_buyer`` about each."""
        by_buyer: dict[str, list[PaymentExperience]] = {buyer_id: [] for buyer_id in buyer_ids}
        statement = select(PaymentExperience).where(PaymentExperience.buyer_id.in_(buyer_ids)).order_by(PaymentExperience.due_on)
        for experience in (await self.session.execute(statement)).scalars():
            by_buyer[experience.buyer_id].append(experience)
        self.session.info[_EXPERIENCES] = by_buyer

    async def load_for_invoices(self, *, invoice_ids: set[str], settlement_ids: set[str]) -> None:
        """Read the experiences and settlements of these invoices, and these settlements, at once:
        for a batch of events that asks ``get_experience``, ``get_settlement`` and
        ``settlements_for_invoice`` about them."""
        read = _InvoicesRead(settlement_ids=set(settlement_ids))
        experiences = select(PaymentExperience).where(PaymentExperience.invoice_id.in_(invoice_ids))
        read.experiences = dict.fromkeys(invoice_ids) | {e.invoice_id: e for e in (await self.session.execute(experiences)).scalars()}
        read.settlements_by_invoice = {invoice_id: [] for invoice_id in invoice_ids}
        settlements = (
            select(Settlement).where(or_(Settlement.invoice_id.in_(invoice_ids), Settlement.settlement_id.in_(settlement_ids)))
            .order_by(Settlement.settled_on)
        )
        for settlement in (await self.session.execute(settlements)).scalars():
            read.settlements[settlement.settlement_id] = settlement
            if settlement.invoice_id in read.settlements_by_invoice:
                read.settlements_by_invoice[settlement.invoice_id].append(settlement)
        self.session.info[_INVOICES] = read

    def _invoices_read(self) -> _InvoicesRead:
        return self.session.info.get(_INVOICES) or _InvoicesRead()

    async def get_experience(self, invoice_id: str) -> PaymentExperience | None:
        read = self._invoices_read()
        if invoice_id in read.experiences:
            return read.experiences[invoice_id]
        return await self.session.get(PaymentExperience, invoice_id)

    async def get_settlement(self, settlement_id: str) -> Settlement | None:
        read = self._invoices_read()
        if settlement_id in read.settlement_ids:
            return read.settlements.get(settlement_id)
        return await self.session.get(Settlement, settlement_id)

    async def add(self, entity: PaymentExperience | Settlement) -> None:
        self.session.add(entity)
        await self.session.flush()
        read = self._invoices_read()
        if isinstance(entity, PaymentExperience):
            self.session.info.get(_EXPERIENCES, {}).pop(entity.buyer_id, None)  # asked again, the database answers
            if entity.invoice_id in read.experiences:
                read.experiences[entity.invoice_id] = entity
        else:
            read.settlements[entity.settlement_id] = entity
            read.settlement_ids.add(entity.settlement_id)
            if entity.invoice_id in read.settlements_by_invoice:
                read.settlements_by_invoice[entity.invoice_id].append(entity)
                read.settlements_by_invoice[entity.invoice_id].sort(key=lambda s: s.settled_on)

    async def settlements_for_invoice(self, invoice_id: str) -> list[Settlement]:
        read = self._invoices_read()
        if invoice_id in read.settlements_by_invoice:
            return list(read.settlements_by_invoice[invoice_id])
        statement = select(Settlement).where(Settlement.invoice_id == invoice_id).order_by(Settlement.settled_on)
        return list((await self.session.execute(statement)).scalars())

    async def experiences_for_buyer(self, buyer_id: str) -> list[PaymentExperience]:
        loaded = self.session.info.get(_EXPERIENCES)
        if loaded is not None and buyer_id in loaded:
            return list(loaded[buyer_id])
        statement = select(PaymentExperience).where(PaymentExperience.buyer_id == buyer_id).order_by(PaymentExperience.due_on)
        return list((await self.session.execute(statement)).scalars())
