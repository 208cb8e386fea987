"""Kafka adapters for the scoring and limits topics the early-warning rules watch."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from creditguard_alerts.buyers import service as buyers
from creditguard_alerts.context import AlertsContext, AlertsContextSource
from creditguard_alerts.early_warning import service
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import (
    AccountStatusChangedV1,
    BuyerAssessedV1,
    ExposureChangedV1,
    InsuranceCoverChangedV1,
    LimitBreachedV1,
    LimitChangedV1,
    ScoreChangedV1,
)
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


async def on_buyer_assessed(uow: UnitOfWork, event: BuyerAssessedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    known = await buyers.find_profile(uow, buyer_id=event.buyer_id)
    groups_before = (known.country, known.industry) if known is not None else None
    buyer = await buyers.record_assessment(uow, event=event, now=context.now)
    if buyer.currency is not None and buyer.exposure > 0 and groups_before != (buyer.country, buyer.industry):
        # A new country or industry moves the buyer's exposure between concentration groups.
        service.recheck_concentration_before_commit(uow, context=context, currency=buyer.currency)


async def on_score_changed(uow: UnitOfWork, event: ScoreChangedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    await buyers.record_score(uow, event=event, now=context.now)
    await service.evaluate_score(uow, context=context, event=event)


async def on_exposure_changed(uow: UnitOfWork, event: ExposureChangedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    known = await buyers.find_profile(uow, buyer_id=event.buyer_id)
    held_before = (known.currency, known.exposure) if known is not None else None
    buyer = await buyers.record_exposure(uow, event=event, now=context.now)
    await service.evaluate_exposure(uow, context=context, buyer=buyer, shares_moved=held_before != (buyer.currency, buyer.exposure))


async def on_limit_breached(uow: UnitOfWork, event: LimitBreachedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    await service.limit_breached(uow, context=context, event=event)


async def on_limit_changed(uow: UnitOfWork, event: LimitChangedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    buyer = await buyers.record_limit_change(uow, event=event, now=context.now)
    await service.evaluate_review(uow, context=context, buyer=buyer)


async def on_account_status_changed(uow: UnitOfWork, event: AccountStatusChangedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    await buyers.record_status(uow, event=event, now=context.now)
    await service.evaluate_status(uow, context=context, event=event)


async def on_insurance_cover_changed(uow: UnitOfWork, event: InsuranceCoverChangedV1, _: EventEnvelope, *, context: AlertsContext) -> None:
    # Deadlines are checked per invoice by the sweep and on each payment-late.
    await buyers.record_cover(uow, event=event)


@runtime_checkable
class NamesABuyer(Protocol):
    buyer_id: str


async def read_ahead(uow: UnitOfWork, payloads: list[BaseModel]) -> None:
    """Every event here names its buyer: the batch's profiles, covers and open alerts in a few statements."""
    await service.read_ahead_for_buyers(uow, buyer_ids={payload.buyer_id for payload in payloads if isinstance(payload, NamesABuyer)})


def subscriptions(source: AlertsContextSource) -> list[Subscription]:
    """Each event is handled with the context as of its handling: a moved test clock is seen at once."""
    with_context = source.with_context_now
    return [
        Subscription("buyer-assessed", with_context(on_buyer_assessed)),
        Subscription("score-changed", with_context(on_score_changed)),
        Subscription("exposure-changed", with_context(on_exposure_changed)),
        Subscription("limit-breached", with_context(on_limit_breached)),
        Subscription("limit-changed", with_context(on_limit_changed)),
        Subscription("account-status-changed", with_context(on_account_status_changed)),
        Subscription("insurance-cover-changed", with_context(on_insurance_cover_changed)),
    ]
