from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from creditguard_shared.held import Held

PENDING = "pending"
# The unit of work's copy of the subscriptions (every published webhook asks).
_SUBSCRIPTIONS: Held[list[Any]] = Held("alerts.webhook_subscriptions")


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entity: WebhookSubscription | WebhookDelivery | WebhookAttempt) -> None:
        """Written at the next flush (the next query or the commit): a sweep's many new rows go
        out together, not one statement each. Every column is set here; nothing is read back."""
        self.session.add(entity)
        if isinstance(entity, WebhookSubscription):
            _SUBSCRIPTIONS.forget(self.session)

    async def subscription(self, subscription_id: str) -> WebhookSubscription | None:
        return await self.session.get(WebhookSubscription, subscription_id)

    async def subscriptions(self, *, enabled_only: bool = False) -> list[WebhookSubscription]:
        """Read once per unit of work; ``enabled`` is checked on the loaded objects, which see changes made in it."""
        every = _SUBSCRIPTIONS.peek(self.session)
        if every is None:
            statement = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
            every = _SUBSCRIPTIONS.put(self.session, list((await self.session.execute(statement)).scalars()))
        return [s for s in every if s.enabled or not enabled_only]

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def deliveries(self, *, subscription_id: str, status: str | None, limit: int, offset: int) -> tuple[list[WebhookDelivery], int]:
        conditions = [WebhookDelivery.subscription_id == subscription_id]
        if status is not None:
            conditions.append(WebhookDelivery.status == status)
        total = (await self.session.execute(select(func.count()).select_from(WebhookDelivery).where(*conditions))).scalar_one()
        statement = select(WebhookDelivery).where(*conditions).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit).offset(offset)
        return list((await self.session.execute(statement)).scalars()), total

    async def attempts(self, delivery_id: str) -> list[WebhookAttempt]:
        statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        return list((await self.session.execute(statement)).scalars())

    async def due(self, *, now: datetime, limit: int) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
        statement = (
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now, WebhookSubscription.enabled.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
            .limit(limit)
        )
        return [(d, s) for d, s in await self.session.execute(statement)]

    async def lease(self, *, delivery_ids: list[str], now: datetime, until: datetime) -> set[str]:
        """Claim due deliveries by moving their next attempt past the send; answers those claimed.
        One another dispatcher leased meanwhile is no longer due, so it is not claimed twice."""
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
            .values(next_attempt_at=until)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.execute(statement)).scalars())

    async def load_deliveries(self, delivery_ids: list[str]) -> None:
        """Read these deliveries at once, so ``delivery`` finds each without a query."""
        await self.session.execute(select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids)))

    async def restart_pending(self, *, subscription_id: str, now: datetime) -> None:
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == PENDING)
            .values(next_attempt_at=now, retry_started_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)
