from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.models.buyers import Buyer
from creditguard_scoring.models.payment_behaviour import BrokenPromise, PaymentExperience, Settlement
from creditguard_scoring.payment_behaviour.rules import REVIEW_THRESHOLDS
from creditguard_shared.held import Held
from creditguard_shared.receivables import ReceivablesReadAhead

# The payment experiences of the buyers a pass read at once, by due date; and the experiences and
# settlements of the invoices a batch of events read at once. Held here also because the
# session's identity map holds objects only weakly.
_EXPERIENCES: Held[dict[str, list[PaymentExperience]]] = Held("scoring.experiences_by_buyer")
_INVOICES: Held[ReceivablesReadAhead] = Held("scoring.receivables_read_at_once")
_BROKEN_PROMISES: Held[dict[str, list[date]]] = Held("scoring.broken_promises_by_buyer")


class PaymentBehaviourRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_experiences_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read these buyers' payment experiences and broken promises at once, for a pass that asks
        ``experiences_for_buyer`` and ``broken_promise_dates`` about each."""
        by_buyer: dict[str, list[PaymentExperience]] = {buyer_id: [] for buyer_id in buyer_ids}
        statement = select(PaymentExperience).where(PaymentExperience.buyer_id.in_(buyer_ids)).order_by(PaymentExperience.due_on)
        for experience in (await self.session.execute(statement)).scalars():
            by_buyer[experience.buyer_id].append(experience)
        _EXPERIENCES.put(self.session, by_buyer)
        broken: dict[str, list[date]] = {buyer_id: [] for buyer_id in buyer_ids}
        promises = select(BrokenPromise.buyer_id, BrokenPromise.broken_on).where(BrokenPromise.buyer_id.in_(buyer_ids)).order_by(BrokenPromise.broken_on)
        for buyer_id, broken_on in (await self.session.execute(promises)).all():
            broken[buyer_id].append(broken_on)
        _BROKEN_PROMISES.put(self.session, broken)

    async def load_for_invoices(self, *, invoice_ids: set[str], settlement_ids: set[str]) -> None:
        """Read the experiences and settlements of these invoices, and these settlements, at once:
        for a batch of events that asks ``get_experience``, ``get_settlement`` and
        ``settlements_for_invoice`` about them."""
        read = ReceivablesReadAhead(documents=PaymentExperience, settlements=Settlement)
        await read.read(self.session, invoice_ids=invoice_ids, settlement_ids=settlement_ids)
        _INVOICES.put(self.session, read)

    def _invoices_read(self) -> ReceivablesReadAhead:
        read = _INVOICES.peek(self.session)
        # Nothing read ahead: an empty one, kept for the unit of work, sends every question to the database.
        if read is None:
            read = _INVOICES.put(self.session, ReceivablesReadAhead(documents=PaymentExperience, settlements=Settlement))
        return read

    async def get_experience(self, invoice_id: str) -> PaymentExperience | None:
        found, experience = self._invoices_read().document(invoice_id)
        return experience if found else await self.session.get(PaymentExperience, invoice_id)

    async def get_settlement(self, settlement_id: str) -> Settlement | None:
        found, settlement = self._invoices_read().settlement(settlement_id)
        return settlement if found else await self.session.get(Settlement, settlement_id)

    async def add(self, entity: PaymentExperience | Settlement) -> None:
        self.session.add(entity)
        await self.session.flush()
        self._invoices_read().added(entity)
        if isinstance(entity, PaymentExperience):
            (_EXPERIENCES.peek(self.session) or {}).pop(entity.buyer_id, None)  # asked again, the database answers

    async def settlements_for_invoice(self, invoice_id: str) -> list[Settlement]:
        read = self._invoices_read().settlements_for(invoice_id)
        if read is not None:
            return read
        statement = select(Settlement).where(Settlement.invoice_id == invoice_id).order_by(Settlement.settled_on)
        return list((await self.session.execute(statement)).scalars())

    async def experiences_for_buyer(self, buyer_id: str) -> list[PaymentExperience]:
        loaded = _EXPERIENCES.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return list(loaded[buyer_id])
        statement = select(PaymentExperience).where(PaymentExperience.buyer_id == buyer_id).order_by(PaymentExperience.due_on)
        return list((await self.session.execute(statement)).scalars())

    async def get_broken_promise(self, *, case_id: str, promised_until: date) -> BrokenPromise | None:
        return await self.session.get(BrokenPromise, (case_id, promised_until))

    async def add_broken_promise(self, promise: BrokenPromise) -> None:
        self.session.add(promise)
        await self.session.flush()
        (_BROKEN_PROMISES.peek(self.session) or {}).pop(promise.buyer_id, None)  # asked again, the database answers

    async def broken_promise_dates(self, buyer_id: str) -> list[date]:
        loaded = _BROKEN_PROMISES.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return list(loaded[buyer_id])
        statement = select(BrokenPromise.broken_on).where(BrokenPromise.buyer_id == buyer_id).order_by(BrokenPromise.broken_on)
        return list((await self.session.execute(statement)).scalars())

    async def buyers_past_new_threshold(self, *, today: date) -> list[str]:
        """Registered buyers with an open invoice past a review threshold its assessment did not see."""
        crossed = or_(
            *[
                and_(PaymentExperience.due_on <= today - timedelta(days=threshold), PaymentExperience.past_due_threshold_assessed < threshold)
                for threshold in REVIEW_THRESHOLDS
            ]
        )
        statement = (
            select(PaymentExperience.buyer_id)
            .distinct()
            .join(Buyer, Buyer.buyer_id == PaymentExperience.buyer_id)
            .where(PaymentExperience.open_amount > 0, crossed)
            .order_by(PaymentExperience.buyer_id)
        )
        return list((await self.session.execute(statement)).scalars())
