"""Kafka adapters: assessments and grades from scoring, hold requests from alerts' collections."""

from __future__ import annotations

from creditguard_limits.accounts import service
from creditguard_limits.context import LimitsContext
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import AccountHoldRequestedV1, BuyerAssessedV1, ScoreChangedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


def subscriptions(context: LimitsContext) -> list[Subscription]:
    """The handlers need the service's clock and policy, so they are bound to its context."""

    async def on_buyer_assessed(uow: UnitOfWork, event: BuyerAssessedV1, _: EventEnvelope) -> None:
        await service.record_assessment(uow, context=context, assessment=event)

    async def on_score_changed(uow: UnitOfWork, event: ScoreChangedV1, _: EventEnvelope) -> None:
        await service.record_score(uow, context=context, score=event)

    async def on_account_hold_requested(uow: UnitOfWork, event: AccountHoldRequestedV1, _: EventEnvelope) -> None:
        await service.apply_hold_request(uow, context=context, request=event)

    return [
        Subscription("buyer-assessed", on_buyer_assessed),
        Subscription("score-changed", on_score_changed),
        Subscription("account-hold-requested", on_account_hold_requested),
    ]
