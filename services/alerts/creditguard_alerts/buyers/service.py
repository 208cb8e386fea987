"""Keep each buyer's reference data current from the events of scoring and limits. Events of
different topics arrive in any order, so a profile is created by whichever comes first."""

from __future__ import annotations

from datetime import datetime

from creditguard_alerts.buyers.repository import BuyerRepository
from creditguard_alerts.models.buyers import BuyerProfile, InsuranceCover
from creditguard_shared.errors import NotFound
from creditguard_shared.events.contracts import (
    AccountStatusChangedV1,
    BuyerAssessedV1,
    ExposureChangedV1,
    InsuranceCoverChangedV1,
    LimitChangedV1,
    ScoreChangedV1,
)
from creditguard_shared.unit_of_work import UnitOfWork


async def profile(uow: UnitOfWork, *, buyer_id: str, now: datetime) -> BuyerProfile:
    repository = BuyerRepository(uow.session)
    existing = await repository.get(buyer_id)
    if existing is not None:
        return existing
    created = BuyerProfile(buyer_id=buyer_id, exposure=0, overdue=0, account_status="active", updated_at=now)
    await repository.add(created)
    return created


async def find_profile(uow: UnitOfWork, *, buyer_id: str) -> BuyerProfile | None:
    return await BuyerRepository(uow.session).get(buyer_id)


async def record_assessment(uow: UnitOfWork, *, event: BuyerAssessedV1, now: datetime) -> BuyerProfile:
    buyer = await profile(uow, buyer_id=event.buyer_id, now=now)
    for field in ("name", "country", "industry", "account_owner"):
        value = getattr(event, field)
        if value is not None:
            setattr(buyer, field, value)
    buyer.grade, buyer.risk_class, buyer.updated_at = event.grade, event.risk_class.value, now
    return buyer


async def record_score(uow: UnitOfWork, *, event: ScoreChangedV1, now: datetime) -> BuyerProfile:
    buyer = await profile(uow, buyer_id=event.buyer_id, now=now)
    buyer.grade, buyer.risk_class, buyer.updated_at = event.new_grade, event.new_risk_class.value, now
    return buyer


async def record_exposure(uow: UnitOfWork, *, event: ExposureChangedV1, now: datetime) -> BuyerProfile:
    buyer = await profile(uow, buyer_id=event.buyer_id, now=now)
    buyer.currency, buyer.limit_amount, buyer.exposure = event.currency, event.limit, event.exposure
    buyer.overdue, buyer.utilisation, buyer.updated_at = event.overdue, event.utilisation, now
    return buyer


async def record_limit_change(uow: UnitOfWork, *, event: LimitChangedV1, now: datetime) -> BuyerProfile:
    buyer = await profile(uow, buyer_id=event.buyer_id, now=now)
    buyer.currency, buyer.limit_amount, buyer.updated_at = event.currency, event.new_amount, now
    # Limits says the review date with every change, including none (the review date removed); an
    # older producer's event without the field leaves the known date alone.
    if "review_due_on" in event.model_fields_set:
        buyer.review_due_on = event.review_due_on
    return buyer


async def record_status(uow: UnitOfWork, *, event: AccountStatusChangedV1, now: datetime) -> BuyerProfile:
    buyer = await profile(uow, buyer_id=event.buyer_id, now=now)
    buyer.account_status, buyer.updated_at = event.new_status, now
    return buyer


async def record_cover(uow: UnitOfWork, *, event: InsuranceCoverChangedV1) -> InsuranceCover:
    repository = BuyerRepository(uow.session)
    cover = await repository.cover(event.buyer_id)
    fields = event.model_dump(exclude={"buyer_id", "indemnity_percentage"})
    if cover is None:
        cover = InsuranceCover(buyer_id=event.buyer_id, **fields)
        await repository.add(cover)
    else:
        for name, value in fields.items():
            setattr(cover, name, value)
    return cover


async def get_profile(uow: UnitOfWork, *, buyer_id: str) -> tuple[BuyerProfile, InsuranceCover | None]:
    repository = BuyerRepository(uow.session)
    buyer = await repository.get(buyer_id)
    if buyer is None:
        raise NotFound(f"Buyer {buyer_id} is not known to the alerts service yet.")
    return buyer, await repository.cover(buyer_id)


async def page_profiles(uow: UnitOfWork, *, account_owner: str | None, account_status: str | None, limit: int, offset: int) -> tuple[list[BuyerProfile], int]:
    return await BuyerRepository(uow.session).page(account_owner=account_owner, account_status=account_status, limit=limit, offset=offset)
