"""Subscriptions, deliveries stored before they are sent, and the dispatch of due deliveries
with Standard Webhooks signatures, exponential backoff with jitter and a retry period."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.buyers.repository import BuyerRepository
from creditguard_alerts.context import AlertsContext
from creditguard_alerts.models.buyers import BuyerProfile
from creditguard_alerts.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from creditguard_alerts.webhooks import rules
from creditguard_alerts.webhooks.repository import PENDING, WebhookRepository
from creditguard_alerts.webhooks.schemas import SubscriptionIn, SubscriptionPatch
from creditguard_alerts.webhooks.secret_keys import SecretUnreadable, WebhookSecretKeys
from creditguard_shared.errors import Conflict, NotFound, Unprocessable
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

DELIVERED, FAILED = "delivered", "failed"
SEND_CONCURRENCY = 16


async def check_target(url: str, context: AlertsContext) -> None:
    """Refuse anything but http(s) to addresses outside private, loopback, link-local, multicast and
    reserved ranges (unless an allowed network admits them). Every address the host resolves to counts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Unprocessable("Webhook URLs must use http or https.", field="url")
    if not parts.hostname:
        raise Unprocessable("The webhook URL has no host.", field="url")
    if parts.username or parts.password:
        raise Unprocessable("Webhook URLs must not carry credentials.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        resolved = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError, UnicodeError) as exc:
        raise Unprocessable(f"The webhook host {parts.hostname} cannot be resolved ({exc}).", field="url") from None
    for address in {info[4][0] for info in resolved}:
        reason = rules.unsafe_address(str(address), context.settings.allowed_networks)
        if reason is not None:
            raise Unprocessable(f"Webhook target {parts.hostname} refused: {reason}.", field="url")


async def create_subscription(uow: UnitOfWork, *, context: AlertsContext, subscription: SubscriptionIn) -> tuple[WebhookSubscription, str]:
    """The new subscription and its signing secret, which is stored encrypted only."""
    await check_target(subscription.url, context)
    secret = rules.new_secret()
    entity = WebhookSubscription(
        id=f"sub_{uuid.uuid4().hex}",
        url=subscription.url,
        description=subscription.description,
        event_types=sorted(set(subscription.event_types)),
        filter=subscription.filter.model_dump(mode="json", exclude_none=True),
        secret_encrypted=context.settings.secret_keys.encrypt(secret),
        enabled=True,
        disabled_reason=None,
        created_at=context.now,
        updated_at=context.now,
    )
    await WebhookRepository(uow.session).add(entity)
    return entity, secret


async def reencrypt_secrets(session: AsyncSession, keys: WebhookSecretKeys) -> int:
    """Every subscription's secret under the first key, so the others can be retired; answers how many."""
    subscriptions = await WebhookRepository(session).subscriptions()
    for subscription in subscriptions:
        try:
            subscription.secret_encrypted = keys.reencrypt(subscription.secret_encrypted)
        except SecretUnreadable as exc:
            raise SecretUnreadable(f"subscription {subscription.id}: {exc}; nothing was re-encrypted") from None
    return len(subscriptions)


async def get_subscription(uow: UnitOfWork, *, subscription_id: str) -> WebhookSubscription:
    subscription = await WebhookRepository(uow.session).subscription(subscription_id)
    if subscription is None:
        raise NotFound(f"Webhook subscription {subscription_id} not found.")
    return subscription


async def list_subscriptions(uow: UnitOfWork) -> list[WebhookSubscription]:
    return await WebhookRepository(uow.session).subscriptions()


async def update_subscription(uow: UnitOfWork, *, context: AlertsContext, subscription_id: str, patch: SubscriptionPatch) -> WebhookSubscription:
    subscription = await get_subscription(uow, subscription_id=subscription_id)
    if patch.url is not None:
        await check_target(patch.url, context)
        subscription.url = patch.url
    if patch.event_types is not None:
        subscription.event_types = sorted(set(patch.event_types))
    if patch.filter is not None:
        subscription.filter = patch.filter.model_dump(mode="json", exclude_none=True)
    if patch.description is not None:
        subscription.description = patch.description
    if patch.enabled is True and not subscription.enabled:
        subscription.enabled, subscription.disabled_reason = True, None
        # What waited while it was disabled gets a fresh retry period.
        await WebhookRepository(uow.session).restart_pending(subscription_id=subscription.id, now=context.now)
    elif patch.enabled is False:
        subscription.enabled, subscription.disabled_reason = False, "disabled through the API"
    subscription.updated_at = context.now
    return subscription


def _buyer_view(buyer_id: str | None, buyer: BuyerProfile | None) -> dict[str, Any] | None:
    if buyer_id is None:
        return None
    if buyer is None:
        return {"buyer_id": buyer_id}
    return {
        "buyer_id": buyer.buyer_id,
        "name": buyer.name,
        "country": buyer.country,
        "industry": buyer.industry,
        "account_owner": buyer.account_owner,
        "grade": buyer.grade,
        "risk_class": buyer.risk_class,
        "account_status": buyer.account_status,
    }


async def publish(
    uow: UnitOfWork,
    *,
    context: AlertsContext,
    event_type: str,
    buyer_id: str | None,
    severity: str | None,
    data: dict[str, Any],
    links: dict[str, str],
) -> int:
    """Store one delivery per matching enabled subscription, in the caller's transaction."""
    repository = WebhookRepository(uow.session)
    subscriptions = [s for s in await repository.subscriptions(enabled_only=True) if event_type in s.event_types]
    if not subscriptions:
        return 0
    buyer = await BuyerRepository(uow.session).get(buyer_id) if buyer_id else None
    account_owner = buyer.account_owner if buyer is not None else None
    matching = [s for s in subscriptions if rules.matches(s.filter, buyer_id=buyer_id, account_owner=account_owner, severity=severity)]
    for subscription in matching:
        message_id = f"msg_{uuid.uuid4().hex}"
        body = {
            "type": event_type,
            "timestamp": context.now.isoformat(),
            "data": {**data, "buyer": _buyer_view(buyer_id, buyer), "account_owner": account_owner, "links": links},
        }
        await repository.add(
            WebhookDelivery(
                id=message_id,
                subscription_id=subscription.id,
                event_type=event_type,
                buyer_id=buyer_id,
                payload=json.dumps(body, separators=(",", ":"), default=str),
                status=PENDING,
                attempts=0,
                next_attempt_at=context.now,
                created_at=context.now,
                retry_started_at=context.now,
            )
        )
    return len(matching)


@dataclass(frozen=True)
class AttemptOutcome:
    delivery_id: str
    status_code: int | None
    error: str | None
    duration_seconds: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _refusal(url: str, *, context: AlertsContext) -> str | None:
    try:
        await check_target(url, context)
    except Unprocessable as exc:
        return exc.detail
    return None


def _decrypted(token: str, *, context: AlertsContext) -> tuple[str, str | None]:
    """The signing secret, or why it cannot be had: then nothing is sent, and the attempt says so."""
    try:
        return context.settings.secret_keys.decrypt(token), None
    except SecretUnreadable as exc:
        return "", f"the subscription's signing secret cannot be decrypted: {exc}"


async def _send(
    client: aiohttp.ClientSession,
    *,
    context: AlertsContext,
    delivery_id: str,
    url: str,
    secret: str,
    payload: str,
    refusal: str | None,
) -> AttemptOutcome:
    started = time.perf_counter()
    if refusal is not None:
        return AttemptOutcome(delivery_id, None, refusal, time.perf_counter() - started)
    try:
        # Receivers compare this with their own clock (Standard Webhooks tolerance), so it is
        # wall-clock time, never the service's controllable clock.
        timestamp = int(time.time())
        body = payload.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": rules.sign(secret=secret, message_id=delivery_id, timestamp=timestamp, body=body),
            "user-agent": "creditguard-alerts-webhooks/1",
        }
        # No redirects: a redirect could lead to an address the target check would refuse.
        async with client.post(url, data=body, headers=headers, allow_redirects=False) as response:
            status = response.status
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return AttemptOutcome(delivery_id, status, error, time.perf_counter() - started)
    except TimeoutError:
        return AttemptOutcome(delivery_id, None, f"no answer within {context.settings.webhook_timeout_seconds} s", time.perf_counter() - started)
    except aiohttp.ClientError as exc:
        return AttemptOutcome(delivery_id, None, f"{exc.__class__.__name__}: {exc}"[:1000], time.perf_counter() - started)


class GaveUpHandler(Protocol):
    """Told, in the transaction that records it, that a subscription was disabled after its retries ran out."""

    async def __call__(self, uow: UnitOfWork, *, context: AlertsContext, subscription: WebhookSubscription, reason: str) -> None: ...


async def dispatch_due(
    *,
    uow_factory: UnitOfWorkFactory,
    context_now: Callable[[], AlertsContext],
    client: aiohttp.ClientSession,
    on_subscription_disabled: GaveUpHandler,
) -> int:
    """Send every due delivery once: claim (lease), send without a transaction open, record the
    outcome. Two transactions with the sends between them: each reads the clock (``context_now``)."""
    context = context_now()
    lease_until = context.now + timedelta(seconds=context.settings.webhook_timeout_seconds + 30)
    async with uow_factory() as uow:
        repository = WebhookRepository(uow.session)
        due = await repository.due(now=context.now, limit=context.settings.webhook_batch_size)
        leased = await repository.lease(delivery_ids=[delivery.id for delivery, _ in due], now=context.now, until=lease_until) if due else set()
        claimed = [(delivery.id, subscription.url, subscription.secret_encrypted, delivery.payload) for delivery, subscription in due if delivery.id in leased]
        await uow.commit()
    if not claimed:
        return 0
    # Each target is resolved again at send time, once per pass (not once per delivery): a name
    # that pointed outside when subscribed may point inside now.
    refusals = {url: await _refusal(url, context=context) for url in {url for _, url, _, _ in claimed}}
    secrets = {token: _decrypted(token, context=context) for token in {token for _, _, token, _ in claimed}}
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(item: tuple[str, str, str, str]) -> AttemptOutcome:
        async with limit:
            delivery_id, url, token, payload = item
            secret, unreadable = secrets[token]
            return await _send(client, context=context, delivery_id=delivery_id, url=url, secret=secret, payload=payload, refusal=refusals[url] or unreadable)

    outcomes = await asyncio.gather(*(send(item) for item in claimed))
    async with uow_factory() as uow:
        context = context_now()
        await WebhookRepository(uow.session).load_deliveries([outcome.delivery_id for outcome in outcomes])
        for outcome in outcomes:
            await _record(uow, context=context, outcome=outcome, on_subscription_disabled=on_subscription_disabled)
        await uow.commit()
    return len(outcomes)


async def _record(uow: UnitOfWork, *, context: AlertsContext, outcome: AttemptOutcome, on_subscription_disabled: GaveUpHandler) -> None:
    repository = WebhookRepository(uow.session)
    delivery = await repository.delivery(outcome.delivery_id)
    if delivery is None or delivery.status != PENDING:
        return
    metrics = context.metrics
    metrics.webhook_duration.labels(metrics.service).observe(outcome.duration_seconds)
    await repository.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=context.now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_seconds=outcome.duration_seconds,
            succeeded=outcome.succeeded,
        )
    )
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = context.now, outcome.status_code, outcome.error
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, context.now, None
        metrics.webhook_deliveries.labels(metrics.service, "delivered").inc()
        return
    settings = context.settings
    if context.now - delivery.retry_started_at >= timedelta(seconds=settings.webhook_retry_period_seconds):
        delivery.status, delivery.next_attempt_at = FAILED, None
        metrics.webhook_deliveries.labels(metrics.service, "gave_up").inc()
        subscription = await repository.subscription(delivery.subscription_id)
        if subscription is not None and subscription.enabled:
            reason = f"delivery {delivery.id} failed for {settings.webhook_retry_period_seconds:.0f}s: {outcome.error}"
            subscription.enabled, subscription.disabled_reason, subscription.updated_at = False, reason, context.now
            await on_subscription_disabled(uow, context=context, subscription=subscription, reason=reason)
        return
    metrics.webhook_deliveries.labels(metrics.service, "failed_attempt").inc()
    delay = rules.retry_delay_seconds(attempts=delivery.attempts, base=settings.webhook_retry_base_seconds, cap=settings.webhook_retry_max_delay_seconds)
    delivery.next_attempt_at = context.now + timedelta(seconds=delay)


async def page_deliveries(uow: UnitOfWork, *, subscription_id: str, status: str | None, limit: int, offset: int) -> tuple[list[WebhookDelivery], int]:
    await get_subscription(uow, subscription_id=subscription_id)
    return await WebhookRepository(uow.session).deliveries(subscription_id=subscription_id, status=status, limit=limit, offset=offset)


async def get_delivery(uow: UnitOfWork, *, delivery_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    repository = WebhookRepository(uow.session)
    delivery = await repository.delivery(delivery_id)
    if delivery is None:
        raise NotFound(f"Webhook delivery {delivery_id} not found.")
    return delivery, await repository.attempts(delivery_id)


async def redeliver(uow: UnitOfWork, *, context: AlertsContext, delivery_id: str) -> WebhookDelivery:
    """Send again now, with the same message id, and a fresh retry period."""
    delivery, _ = await get_delivery(uow, delivery_id=delivery_id)
    if delivery.status == PENDING:
        raise Conflict(f"Delivery {delivery_id} is still being retried; it is due at {delivery.next_attempt_at}.")
    delivery.status, delivery.next_attempt_at, delivery.retry_started_at, delivery.delivered_at = PENDING, context.now, context.now, None
    return delivery
