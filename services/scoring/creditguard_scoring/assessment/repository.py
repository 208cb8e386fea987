from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_scoring.models.assessment import Assessment, BuyerScore, ReassessmentDue
from creditguard_scoring.models.buyers import Buyer
from creditguard_shared.held import Held

# The scores and due marks of the buyers a pass read at once, locked as ``current_score`` and
# ``get_due`` lock them (None where a buyer has none).
_SCORES: Held[dict[str, BuyerScore | None]] = Held("scoring.scores_by_buyer")
_DUES: Held[dict[str, ReassessmentDue | None]] = Held("scoring.dues_by_buyer")


class AssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entity: Assessment | BuyerScore | ReassessmentDue) -> None:
        # Written at the next flush: a pass's twenty assessments and scores in one go, where a
        # flush per entity cost a fifth of the pass.
        self.session.add(entity)
        if isinstance(entity, BuyerScore) and (scores := _SCORES.peek(self.session)) is not None:
            scores[entity.buyer_id] = entity
        if isinstance(entity, ReassessmentDue) and (dues := _DUES.peek(self.session)) is not None:
            dues[entity.buyer_id] = entity

    async def load_for_buyers(self, buyer_ids: list[str]) -> None:
        """Read and lock the scores and due marks of these buyers at once, for a pass that asks
        ``current_score`` and ``get_due`` (both ``for_update``) about each; in buyer order, as
        one-by-one locking would take them."""
        ids = sorted(buyer_ids)
        dues = select(ReassessmentDue).where(ReassessmentDue.buyer_id.in_(ids)).order_by(ReassessmentDue.buyer_id).with_for_update(skip_locked=True)
        scores = select(BuyerScore).where(BuyerScore.buyer_id.in_(ids)).order_by(BuyerScore.buyer_id).with_for_update()
        _DUES.put(self.session, dict.fromkeys(ids) | {d.buyer_id: d for d in (await self.session.execute(dues)).scalars()})
        _SCORES.put(self.session, dict.fromkeys(ids) | {s.buyer_id: s for s in (await self.session.execute(scores)).scalars()})

    async def load_dues(self, buyer_ids: set[str]) -> None:
        """Read and lock the due marks of these buyers at once, in buyer order, for a batch of
        events that marks them: the batch then updates them in event order on rows it already
        holds, so two batches (or a batch and a pass) marking the same buyers in different orders
        wait for each other instead of deadlocking."""
        ids = sorted(buyer_ids)
        dues = select(ReassessmentDue).where(ReassessmentDue.buyer_id.in_(ids)).order_by(ReassessmentDue.buyer_id).with_for_update()
        _DUES.put(self.session, dict.fromkeys(ids) | {d.buyer_id: d for d in (await self.session.execute(dues)).scalars()})

    @staticmethod
    def _loaded(session: AsyncSession, key: Held[Any], buyer_id: str) -> tuple[bool, Any]:
        loaded = key.peek(session)
        return (True, loaded[buyer_id]) if loaded is not None and buyer_id in loaded else (False, None)

    async def current_score(self, buyer_id: str, *, for_update: bool = False) -> BuyerScore | None:
        found, score = self._loaded(self.session, _SCORES, buyer_id)
        if found:
            return score
        statement = select(BuyerScore).where(BuyerScore.buyer_id == buyer_id)
        if for_update:
            # Two assessments of one buyer at once (API and background pass) must not both see the old grade.
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_assessment(self, assessment_id: str) -> Assessment | None:
        return (await self.session.execute(select(Assessment).where(Assessment.assessment_id == assessment_id))).scalar_one_or_none()

    async def history(self, buyer_id: str, *, limit: int, offset: int) -> tuple[list[Assessment], int]:
        statement = select(Assessment).where(Assessment.buyer_id == buyer_id).order_by(Assessment.sequence.desc()).limit(limit).offset(offset)
        total = await self.session.scalar(select(func.count()).select_from(Assessment).where(Assessment.buyer_id == buyer_id))
        return list((await self.session.execute(statement)).scalars()), int(total or 0)

    async def list_buyers(
        self,
        *,
        grade: int | None,
        country: str | None,
        industry_section: str | None,
        industry_prefix: str | None,
        limit: int,
        offset: int,
        search: str | None = None,
        account_owner: str | None = None,
        buyer_ids: list[str] | None = None,
        sort: str = "buyer_id",
    ) -> tuple[list[tuple[Buyer, BuyerScore | None]], int]:
        joined = (
            select(Buyer, BuyerScore)
            .outerjoin(BuyerScore, BuyerScore.buyer_id == Buyer.buyer_id)
            .where(
                and_(
                    True,
                    *self._buyer_conditions(
                        grade=grade,
                        country=country,
                        industry_section=industry_section,
                        industry_prefix=industry_prefix,
                        search=search,
                        account_owner=account_owner,
                        buyer_ids=buyer_ids,
                    ),
                )
            )
        )
        total = await self.session.scalar(select(func.count()).select_from(joined.subquery()))
        # Unscored buyers last when ranking by PD; buyer_id breaks ties so pages never overlap.
        order = {
            "buyer_id": (Buyer.buyer_id,),
            "name": (Buyer.name, Buyer.buyer_id),
            "-pd": (BuyerScore.pd.is_(None), BuyerScore.pd.desc(), Buyer.buyer_id),
        }[sort]
        rows = (await self.session.execute(joined.order_by(*order).limit(limit).offset(offset))).all()
        return [(buyer, score) for buyer, score in rows], int(total or 0)

    async def buyer_ids(self, *, grade: int | None, country: str | None, account_owner: str | None, search: str | None, limit: int) -> list[str]:
        conditions = self._buyer_conditions(
            grade=grade, country=country, industry_section=None, industry_prefix=None, search=search, account_owner=account_owner, buyer_ids=None
        )
        statement = select(Buyer.buyer_id).outerjoin(BuyerScore, BuyerScore.buyer_id == Buyer.buyer_id).where(and_(True, *conditions))
        return list((await self.session.execute(statement.order_by(Buyer.buyer_id).limit(limit))).scalars())

    @staticmethod
    def _buyer_conditions(
        *,
        grade: int | None,
        country: str | None,
        industry_section: str | None,
        industry_prefix: str | None,
        search: str | None,
        account_owner: str | None,
        buyer_ids: list[str] | None,
    ) -> list:
        conditions = []
        if grade is not None:
            conditions.append(BuyerScore.grade == grade)
        if country is not None:
            conditions.append(Buyer.country == country)
        if industry_section is not None:
            conditions.append(BuyerScore.industry_section == industry_section)
        if industry_prefix is not None:
            conditions.append(or_(Buyer.industry == industry_prefix, Buyer.industry.startswith(industry_prefix + ".")))
        if search:
            # A person types part of a name or the start of an id, in any case.
            needle = search.lower()
            conditions.append(or_(func.lower(Buyer.name).contains(needle, autoescape=True), func.lower(Buyer.buyer_id).startswith(needle, autoescape=True)))
        if account_owner is not None:
            conditions.append(Buyer.account_owner == account_owner)
        if buyer_ids is not None:
            conditions.append(Buyer.buyer_id.in_(buyer_ids))
        return conditions

    async def rank_counts(
        self, *, values: dict[str, float], country: str | None = None, industry_section: str | None = None
    ) -> dict[str, tuple[int, int, int]]:
        """For each metric column: (rows below the value, rows equal, rows with a value), in the cohort."""
        columns = []
        for name, value in values.items():
            column = getattr(BuyerScore, name)
            columns += [
                func.sum(case((column < value, 1), else_=0)),
                func.sum(case((column == value, 1), else_=0)),
                func.count(column),
            ]
        statement = select(*columns)
        if country is not None:
            statement = statement.where(BuyerScore.country == country)
        if industry_section is not None:
            statement = statement.where(BuyerScore.industry_section == industry_section)
        row = (await self.session.execute(statement)).one()
        return {name: (int(row[3 * i] or 0), int(row[3 * i + 1] or 0), int(row[3 * i + 2] or 0)) for i, name in enumerate(values)}

    async def get_due(self, buyer_id: str, *, for_update: bool = False) -> ReassessmentDue | None:
        found, due = self._loaded(self.session, _DUES, buyer_id)
        if found:
            return due
        statement = select(ReassessmentDue).where(ReassessmentDue.buyer_id == buyer_id)
        if for_update:
            # Another replica's pass may hold this buyer; skip it rather than assess it twice.
            statement = statement.with_for_update(skip_locked=True)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def due_buyer_ids(self, *, due_by: datetime | None, limit: int) -> list[str]:
        """Buyers due by ``due_by`` (every marked buyer when None)."""
        statement = select(ReassessmentDue.buyer_id).order_by(ReassessmentDue.due_at).limit(limit)
        if due_by is not None:
            statement = statement.where(or_(ReassessmentDue.due_at <= due_by, ReassessmentDue.latest_at <= due_by))
        return list((await self.session.execute(statement)).scalars())

    async def remove_due(self, buyer_id: str, *, marks: int) -> None:
        # Only the marks this pass saw: an event that arrived meanwhile keeps the buyer due.
        # Without autoflush, so the buyer's new assessment and score wait for the batch's flush;
        # the loaded mark is left to the Held dict below rather than to the ORM's evaluation of
        # the criteria against every object in the session (it is never changed after this).
        statement = delete(ReassessmentDue).where(ReassessmentDue.buyer_id == buyer_id, ReassessmentDue.marks == marks)
        with self.session.no_autoflush:
            await self.session.execute(statement.execution_options(synchronize_session=False))
        loaded = _DUES.peek(self.session)
        if loaded is not None:
            loaded.pop(buyer_id, None)  # asked again, the database answers
