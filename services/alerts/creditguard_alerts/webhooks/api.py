from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from creditguard_alerts import jobs
from creditguard_alerts.context import AlertsContextDep, AlertsContextSourceDep
from creditguard_alerts.webhooks import service
from creditguard_alerts.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    DispatchResult,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import MAX_OFFSET, PathId
from creditguard_shared.service_app import UnitOfWorkDep, UnitOfWorkFactoryDep

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
DeliveryStatus = Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")]


@router.post("/subscriptions", response_model=SubscriptionCreated, status_code=201, summary="Subscribe a URL; the signing secret is shown only here")
async def create_subscription(body: SubscriptionIn, uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> SubscriptionCreated:
    subscription, secret = await service.create_subscription(uow, context=context, subscription=body)
    await uow.commit()
    return SubscriptionCreated(**SubscriptionOut.model_validate(subscription).model_dump(), secret=secret)


@router.get("/subscriptions", response_model=list[SubscriptionOut])
async def list_subscriptions(uow: UnitOfWorkDep, _: Manage) -> list[SubscriptionOut]:
    return [SubscriptionOut.model_validate(s) for s in await service.list_subscriptions(uow)]


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def get_subscription(subscription_id: PathId, uow: UnitOfWorkDep, _: Manage) -> SubscriptionOut:
    return SubscriptionOut.model_validate(await service.get_subscription(uow, subscription_id=subscription_id))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionOut, summary="Change, disable or re-enable a subscription")
async def update_subscription(subscription_id: PathId, body: SubscriptionPatch, uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> SubscriptionOut:
    subscription = await service.update_subscription(uow, context=context, subscription_id=subscription_id, patch=body)
    await uow.commit()
    return SubscriptionOut.model_validate(subscription)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage, summary="Delivery history, newest first")
async def list_deliveries(
    subscription_id: PathId,
    uow: UnitOfWorkDep,
    _: Manage,
    status: DeliveryStatus = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> DeliveryPage:
    deliveries, total = await service.page_deliveries(uow, subscription_id=subscription_id, status=status, limit=limit, offset=offset)
    return DeliveryPage(items=[DeliveryOut.model_validate(d) for d in deliveries], total=total, limit=limit, offset=offset)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail, summary="A delivery with its payload and every attempt")
async def get_delivery(delivery_id: PathId, uow: UnitOfWorkDep, _: Manage) -> DeliveryDetail:
    delivery, attempts = await service.get_delivery(uow, delivery_id=delivery_id)
    return DeliveryDetail(
        **DeliveryOut.model_validate(delivery).model_dump(),
        payload=json.loads(delivery.payload),
        attempt_history=[AttemptOut.model_validate(a) for a in attempts],
    )


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut, summary="Send again (same webhook-id), with a fresh retry period")
async def redeliver(delivery_id: PathId, uow: UnitOfWorkDep, context: AlertsContextDep, _: Manage) -> DeliveryOut:
    delivery = await service.redeliver(uow, context=context, delivery_id=delivery_id)
    await uow.commit()
    return DeliveryOut.model_validate(delivery)


@router.post("/dispatch", response_model=DispatchResult, summary="Send the due deliveries now")
async def dispatch_now(uow_factory: UnitOfWorkFactoryDep, source: AlertsContextSourceDep, _: Manage) -> DispatchResult:
    async with jobs.webhook_client(context=source.now()) as client:
        return DispatchResult(attempted=await jobs.dispatch_once(uow_factory, source, client))
