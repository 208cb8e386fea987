from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import TypeVar, cast

from sqlalchemy import bindparam, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.database import Money
from creditguard_alerts.models.buyers import BuyerProfile, InsuranceCover
from creditguard_shared.held import Held

# The two per-buyer tables read by buyer id in chunks.
PerBuyerRow = TypeVar("PerBuyerRow", BuyerProfile, InsuranceCover)

# Built once: the concentration check runs them for every batch of exposure changes.
_EXPOSED_IN_CURRENCY = (BuyerProfile.currency == bindparam("currency"), BuyerProfile.exposure > 0)
# Money columns sum exactly on both databases (whole cents on SQLite, NUMERIC on PostgreSQL).
_EXPOSURE_TOTAL = select(func.count(), func.sum(BuyerProfile.exposure)).where(*_EXPOSED_IN_CURRENCY)


@functools.cache
def _exposure_by_statement(keys: tuple[str, ...]):
    """Sums per group of each key in one UNION ALL, told apart by its first column; buyers only
    from ``buyer_at_least`` up (they are many, and only the large ones matter)."""
    branches = []
    for key in keys:
        group = getattr(BuyerProfile, key)
        total = func.sum(BuyerProfile.exposure)
        branch = select(literal_column(f"'{key}'"), group, total).where(*_EXPOSED_IN_CURRENCY, group.is_not(None)).group_by(group)
        if key == "buyer_id":
            branch = branch.having(total >= bindparam("buyer_at_least", type_=Money()))
        branches.append(branch)
    return union_all(*branches)


# Ids per IN list: well under SQLite's and PostgreSQL's limits on bound parameters.
IN_LIST_SIZE = 500

# The insurance covers and profiles of the buyers a pass read at once (None where a buyer has
# none). Held here, because the session's identity map holds objects only weakly.
_COVERS: Held[dict[str, InsuranceCover | None]] = Held("alerts.covers_by_buyer", dict)
_PROFILES: Held[dict[str, BuyerProfile | None]] = Held("alerts.profiles_by_buyer", dict)


class BuyerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, *, account_owner: str | None, account_status: str | None, limit: int, offset: int) -> tuple[list[BuyerProfile], int]:
        conditions = []
        if account_owner is not None:
            conditions.append(BuyerProfile.account_owner == account_owner)
        if account_status is not None:
            conditions.append(BuyerProfile.account_status == account_status)
        total = (await self.session.execute(select(func.count()).select_from(BuyerProfile).where(*conditions))).scalar_one()
        statement = select(BuyerProfile).where(*conditions).order_by(BuyerProfile.buyer_id).limit(limit).offset(offset)
        return list((await self.session.execute(statement)).scalars()), int(total)

    async def get(self, buyer_id: str) -> BuyerProfile | None:
        loaded = _PROFILES.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return loaded[buyer_id]
        return await self.session.get(BuyerProfile, buyer_id)

    async def get_many(self, buyer_ids: set[str]) -> dict[str, BuyerProfile]:
        return await self._by_buyer(BuyerProfile, buyer_ids)

    async def _by_buyer(self, model: type[PerBuyerRow], buyer_ids: set[str]) -> dict[str, PerBuyerRow]:
        """Rows of ``model`` for these buyers, a chunk of ids per IN list."""
        ids = sorted(buyer_ids)
        found: dict[str, PerBuyerRow] = {}
        for start in range(0, len(ids), IN_LIST_SIZE):
            rows = await self.session.execute(select(model).where(model.buyer_id.in_(ids[start : start + IN_LIST_SIZE])))
            found.update((row.buyer_id, row) for row in rows.scalars().all())
        return found

    async def add(self, entity: BuyerProfile | InsuranceCover) -> None:
        self.session.add(entity)
        await self.session.flush()
        loaded = _COVERS.peek(self.session)
        if isinstance(entity, InsuranceCover) and loaded is not None:
            loaded[entity.buyer_id] = entity
        profiles = _PROFILES.peek(self.session)
        if isinstance(entity, BuyerProfile) and profiles is not None:
            profiles[entity.buyer_id] = entity

    async def load_covers_and_profiles(self, buyer_ids: set[str]) -> None:
        """Read the covers and profiles of these buyers at once, for a pass that asks ``cover`` and
        ``get`` about each (the sweep)."""
        _COVERS.get(self.session).update(dict.fromkeys(buyer_ids) | await self.covers(buyer_ids))
        await self.load_profiles(buyer_ids)

    async def load_profiles(self, buyer_ids: set[str]) -> None:
        """Read the profiles of these buyers at once, for a batch of events that asks ``get`` about each."""
        _PROFILES.get(self.session).update(dict.fromkeys(buyer_ids) | await self.get_many(buyer_ids))

    async def cover(self, buyer_id: str) -> InsuranceCover | None:
        loaded = _COVERS.peek(self.session)
        if loaded is not None and buyer_id in loaded:
            return loaded[buyer_id]
        return await self.session.get(InsuranceCover, buyer_id)

    async def covers(self, buyer_ids: set[str]) -> dict[str, InsuranceCover]:
        return await self._by_buyer(InsuranceCover, buyer_ids)

    async def with_review_due_before(self, day: date) -> list[BuyerProfile]:
        return list((await self.session.execute(select(BuyerProfile).where(BuyerProfile.review_due_on < day))).scalars())

    async def count_with_review_due(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(BuyerProfile).where(BuyerProfile.review_due_on.is_not(None)))).scalar_one()

    async def exposure_total(self, currency: str) -> tuple[int, Decimal]:
        """How many buyers hold exposure in ``currency`` and its total, summed exactly by the database."""
        count, total = (await self.session.execute(_EXPOSURE_TOTAL, {"currency": currency})).one()
        summed = cast("Decimal | None", total)  # SUM of no rows is NULL
        return int(count), Decimal("0.00") if summed is None else summed

    async def exposure_by(self, currency: str, *, keys: list[str], buyer_at_least: Decimal = Decimal(0)) -> dict[str, dict[str, Decimal]]:
        """Exposure in ``currency`` per buyer, country and/or industry (``keys``; buyers only those
        holding at least ``buyer_at_least``, unknown groups left out), summed exactly by the
        database, in one statement."""
        sums: dict[str, dict[str, Decimal]] = {key: {} for key in keys}
        parameters = {"currency": currency, "buyer_at_least": buyer_at_least}
        for key, name, amount in await self.session.execute(_exposure_by_statement(tuple(keys)), parameters):
            sums[key][name] = amount
        return sums

    async def currencies(self) -> list[str]:
        rows = await self.session.execute(select(BuyerProfile.currency).where(BuyerProfile.currency.is_not(None)).group_by(BuyerProfile.currency))
        return [r[0] for r in rows if r[0] is not None]
