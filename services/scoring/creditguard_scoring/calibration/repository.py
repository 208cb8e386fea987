from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.models.assessment import Assessment, ReassessmentDue
from creditguard_scoring.models.buyers import AdverseEvent, Buyer
from creditguard_scoring.models.calibration import CalibrationVersion
from creditguard_scoring.models.payment_behaviour import PaymentExperience
from creditguard_shared.held import Held

# The calibration in force, read once per unit of work (False: none stored).
_CURRENT: Held[Any] = Held("scoring.calibration_in_force")


class CalibrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> CalibrationVersion | None:
        cached = _CURRENT.peek(self.session)
        if cached is None:
            statement = select(CalibrationVersion).order_by(CalibrationVersion.version.desc()).limit(1)
            cached = _CURRENT.put(self.session, (await self.session.execute(statement)).scalar_one_or_none() or False)
        return cached or None

    async def history(self) -> list[CalibrationVersion]:
        return list((await self.session.execute(select(CalibrationVersion).order_by(CalibrationVersion.version.desc()))).scalars())

    async def add(self, calibration: CalibrationVersion) -> None:
        self.session.add(calibration)
        await self.session.flush()
        _CURRENT.put(self.session, calibration)

    async def assessments_in_force(self, *, before: datetime) -> list[Assessment]:
        """Each buyer's latest assessment made before ``before``."""
        latest = (
            select(Assessment.buyer_id, func.max(Assessment.sequence).label("sequence"))
            .where(Assessment.assessed_at < before)
            .group_by(Assessment.buyer_id)
            .subquery()
        )
        statement = select(Assessment).join(latest, Assessment.sequence == latest.c.sequence).order_by(Assessment.buyer_id)
        return list((await self.session.execute(statement)).scalars())

    async def invoices_and_insolvencies(self, buyer_ids: list[str]) -> tuple[dict[str, list[PaymentExperience]], dict[str, list[AdverseEvent]]]:
        invoices: dict[str, list[PaymentExperience]] = {b: [] for b in buyer_ids}
        events: dict[str, list[AdverseEvent]] = {b: [] for b in buyer_ids}
        # In slices: a large book must not exceed the databases' bound-parameter limits.
        for start in range(0, len(buyer_ids), 1000):
            part = buyer_ids[start : start + 1000]
            for experience in (await self.session.execute(select(PaymentExperience).where(PaymentExperience.buyer_id.in_(part)))).scalars():
                invoices[experience.buyer_id].append(experience)
            for event in (await self.session.execute(select(AdverseEvent).where(AdverseEvent.buyer_id.in_(part)))).scalars():
                events[event.buyer_id].append(event)
        return invoices, events

    async def mark_all_buyers_due(self, *, now: datetime) -> list[str]:
        """Every registered buyer due now, in the caller's transaction; returns their ids."""
        buyer_ids = list((await self.session.execute(select(Buyer.buyer_id).order_by(Buyer.buyer_id))).scalars())
        marked = set((await self.session.execute(select(ReassessmentDue.buyer_id))).scalars())
        await self.session.execute(update(ReassessmentDue).values(due_at=now, latest_at=now, marks=ReassessmentDue.marks + 1))
        new = [{"buyer_id": b, "due_at": now, "latest_at": now, "marks": 1} for b in buyer_ids if b not in marked]
        for start in range(0, len(new), 1000):
            await self.session.execute(insert(ReassessmentDue), new[start : start + 1000])
        return buyer_ids
