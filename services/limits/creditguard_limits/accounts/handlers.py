"""Kafka adapters: assessments from scoring, hold requests from alerts' collections.

score-changed is not consumed: scoring publishes it only beside a buyer-assessed for the same
assessment, which carries the grade, risk class and PD as well."""

from __future__ import annotations

from pydantic import BaseModel

from creditguard_limits.accounts import service
from creditguard_limits.context import LimitsContext
from creditguard_limits.position.service import lock_accounts_ahead
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import AccountHoldRequestedV1, BuyerAssessedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


def subscriptions(context: LimitsContext) -> list[Subscription]:
    """The handlers need the service's clock and policy, so they are bound to its context."""

    async def on_buyer_assessed(uow: UnitOfWork, event: BuyerAssessedV1, _: EventEnvelope) -> None:
        await service.record_assessment(uow, context=context, assessment=event)

    async def on_account_hold_requested(uow: UnitOfWork, event: AccountHoldRequestedV1, _: EventEnvelope) -> None:
        await service.apply_hold_request(uow, context=context, request=event)

    return [
        Subscription("buyer-assessed", on_buyer_assessed),
        Subscription("account-hold-requested", on_account_hold_requested),
    ]


def read_ahead(context: LimitsContext):
    """A batch's assessed buyers: their accounts locked and positions read in two statements."""

    async def prepare(uow: UnitOfWork, payloads: list[BaseModel]) -> None:
        await lock_accounts_ahead(uow, context=context, buyer_ids={p.buyer_id for p in payloads if isinstance(p, BuyerAssessedV1)})

    return prepare
