"""Builds a service's FastAPI app: lifespan-managed engine, broker connection, outbox relay and
consumers; problem+json errors; health, metrics, correlation ids and API-key auth."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditguard_shared.api_docs import install_local_docs
from creditguard_shared.auth.dependencies import require_roles
from creditguard_shared.auth.keys import ApiKeyStore, Role
from creditguard_shared.broker_watch import BrokerWatch
from creditguard_shared.clock import Clock
from creditguard_shared.consumer import BatchPreparation, EventConsumer, Subscription
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.errors import document_problems, install_problem_handlers, problem_response
from creditguard_shared.events.catalogue import all_topic_names
from creditguard_shared.events.envelope import service_source
from creditguard_shared.kafka import KafkaConnection
from creditguard_shared.leadership import run_as_leader
from creditguard_shared.messaging_tables import MessagingTables
from creditguard_shared.metrics import HttpMetricsMiddleware, ServiceMetrics
from creditguard_shared.observability import CORRELATION_HEADER, configure_logging, correlation_id_var, new_correlation_id
from creditguard_shared.outbox import OutboxRelay, OutboxRepository, ReplayFilter
from creditguard_shared.schema_types import storable_text
from creditguard_shared.settings import ServiceSettingsMixin
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group: the service's ``handlers.subscriptions(context)`` of the domains it serves."""

    name: str
    subscriptions: Sequence[Subscription]
    # Messages of one fetched batch handled in one transaction (see EventConsumer.process_together).
    # More saves a commit per message but holds the database longer (on SQLite, the one connection).
    events_per_transaction: int = 1
    # Reads what a batch's handlers will ask for, in a few statements, before they run (see
    # EventConsumer.prepare_batch).
    prepare_batch: BatchPreparation | None = None


BackgroundTaskFactory = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class ServiceRuntime:
    """Everything the lifespan creates; reachable from routes as ``request.app.state.runtime``."""

    settings: ServiceSettingsMixin
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    uow_factory: UnitOfWorkFactory
    kafka: KafkaConnection
    relay: OutboxRelay
    metrics: ServiceMetrics
    clock: Clock
    broker_watch: BrokerWatch | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(CORRELATION_HEADER.encode())
        correlation_id = incoming.decode()[:64] if incoming else new_correlation_id()
        token = correlation_id_var.set(correlation_id)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((CORRELATION_HEADER.encode(), correlation_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            correlation_id_var.reset(token)


def create_service_app(
    *,
    settings: ServiceSettingsMixin,
    title: str,
    description: str,
    version: str,
    tables: MessagingTables,
    routers: Sequence[APIRouter],
    consumers: Sequence[ConsumerSpec] = (),
    background_tasks: Sequence[BackgroundTaskFactory] = (),
    metrics: ServiceMetrics | None = None,
    on_startup: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    service = settings.service_name
    metrics = metrics or ServiceMetrics(service)
    clock = clock or Clock()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=service, level=settings.log_level, json_format=settings.log_json)
        if settings.gc_threshold:
            # Older generations keep Python's ratios (every 10 collections of the one below).
            gc.set_threshold(settings.gc_threshold, 10, 10)
        engine = create_engine(settings.database_url)
        session_factory = create_session_factory(engine)
        kafka = KafkaConnection(settings=settings.kafka, service=service, metrics=metrics)
        relay = OutboxRelay(
            service=service,
            engine=engine,
            session_factory=session_factory,
            tables=tables,
            kafka=kafka,
            metrics=metrics,
            poll_interval=settings.outbox_poll_interval_seconds,
            batch_size=settings.outbox_batch_size,
            retention_days=settings.outbox_retention_days,
            prune_interval=settings.outbox_prune_interval_seconds,
            check_interval=settings.broker_check_interval_seconds,
        )
        uow_factory = functools.partial(UnitOfWork, session_factory=session_factory, tables=tables, source=service_source(service), after_commit=relay.wake)
        runtime = ServiceRuntime(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            uow_factory=uow_factory,
            kafka=kafka,
            relay=relay,
            metrics=metrics,
            clock=clock,
        )
        app.state.runtime = runtime
        if on_startup is not None:
            await on_startup(runtime)
        if settings.relay_enabled:
            runtime.tasks.append(asyncio.create_task(relay.run(), name=f"{service}-outbox-relay"))
        subscriptions_by_spec = {spec.name: list(spec.subscriptions) for spec in consumers}
        # The groups' lag is watched even where this instance runs no consumers (an API-only replica).
        runtime.broker_watch = BrokerWatch(
            service=service,
            settings=settings.kafka,
            metrics=metrics,
            interval=settings.broker_check_interval_seconds,
            groups={f"creditguard-{name}": [s.topic for s in subs] for name, subs in subscriptions_by_spec.items()},
            on_broker_back=relay.read_back_everything_soon,
        )
        runtime.tasks.append(asyncio.create_task(runtime.broker_watch.run(), name=f"{service}-broker-watch"))
        if settings.consumers_enabled:
            for spec in consumers:
                subscriptions = subscriptions_by_spec[spec.name]
                consumer = EventConsumer(
                    name=spec.name,
                    subscriptions=list(subscriptions),
                    uow_factory=uow_factory,
                    kafka=kafka,
                    settings=settings.kafka,
                    metrics=metrics,
                    service=service,
                    events_per_transaction=spec.events_per_transaction,
                    prepare_batch=spec.prepare_batch,
                )
                runtime.consumers.append(consumer)
                runtime.tasks.append(asyncio.create_task(consumer.run(), name=f"{service}-consumer-{spec.name}"))
        for factory in background_tasks:
            # Scheduled work runs in one process of the service at a time (see leadership.py).
            job = functools.partial(factory, runtime)
            runtime.tasks.append(
                asyncio.create_task(
                    run_as_leader(engine, name=f"creditguard-{service}-{factory.__name__}", work=job),
                    name=f"{service}-{factory.__name__}",
                )
            )
        logger.info("%s started on database %s, broker %s", service, engine.url.render_as_string(hide_password=True), settings.kafka.bootstrap_servers)
        try:
            yield
        finally:
            for consumer in runtime.consumers:
                consumer.request_stop()
            consumer_tasks = [t for t in runtime.tasks if t.get_name().startswith(f"{service}-consumer-")]
            if consumer_tasks:
                # A consumer still joining or reconnecting cannot see the flag; it is cancelled below.
                await asyncio.wait(consumer_tasks, timeout=3)
            for task in runtime.tasks:
                task.cancel()
            if runtime.tasks:
                _, stuck = await asyncio.wait(runtime.tasks, timeout=10)
                for task in stuck:
                    # A library may have swallowed the first request; ask once more.
                    logger.error("background task %s did not stop when cancelled", task.get_name())
                    task.cancel()
                if stuck:
                    await asyncio.wait(stuck, timeout=5)
            await kafka.close()
            await engine.dispose()
            logger.info("%s stopped", service)

    app = FastAPI(
        title=title, description=description, version=version, lifespan=lifespan, docs_url=None, redoc_url=None, dependencies=[Depends(storable_text)]
    )
    install_local_docs(app)
    app.state.api_keys = ApiKeyStore(settings.api_keys_file)
    app.state.metrics = metrics
    app.state.clock = clock
    install_problem_handlers(app)
    document_problems(app)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(CorrelationIdMiddleware)
    app.include_router(_operations_router(metrics))
    if settings.clock_control_enabled:
        app.include_router(_clock_control_router(clock))
    for router in routers:
        app.include_router(router)
    return app


def _clock_control_router(clock: Clock) -> APIRouter:
    """The development package's clock control, imported only when a setting asks for it."""
    try:
        from creditguard_local.clock_control import clock_control_router
    except ImportError as missing:
        raise RuntimeError("clock control is on, but its development package (tools/local, creditguard-local) is not installed") from missing
    return clock_control_router(clock)


def _operations_router(metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="This instance can serve its API (its database answers)", responses={503: {"description": "Not ready"}})
    async def ready(request: Request) -> JSONResponse:
        """The broker is not asked: the API works without it (events wait in the outbox), and an
        orchestrator that routes by readiness would otherwise take every replica offline at once.
        The broker's state is in /health/details and the metrics."""
        runtime: ServiceRuntime = request.app.state.runtime
        database_problem = await _database_problem(runtime)
        if database_problem:
            return problem_response(status=503, problem_type="not-ready", detail=database_problem, checks={"database": False})
        return JSONResponse({"status": "ready", "checks": {"database": True}})

    @router.get("/health/details", summary="Database, broker, outbox backlog, consumer lag and topics")
    async def details(request: Request) -> dict[str, object]:
        runtime: ServiceRuntime = request.app.state.runtime
        database_problem = await _database_problem(runtime)
        outbox: dict[str, object] = {"retention_days": runtime.settings.outbox_retention_days}
        if not database_problem:
            async with runtime.session_factory() as session:
                pending, oldest = await OutboxRepository(session, runtime.relay.tables).backlog()
            outbox["pending"] = pending
            outbox["oldest_pending_age_seconds"] = round((datetime.now(UTC) - oldest).total_seconds(), 3) if oldest else 0.0
        relay = runtime.relay
        outbox["last_publish_at"] = relay.last_publish_at.isoformat() if relay.last_publish_at else None
        outbox["last_broker_check_at"] = relay.last_check_at.isoformat() if relay.last_check_at else None
        outbox["last_broker_loss"] = relay.last_loss
        watch = runtime.broker_watch
        return {
            "database": {"ok": database_problem is None, "error": database_problem},
            "broker": watch.state.as_json() if watch else None,
            "outbox": outbox,
            "consumer_lag": watch.state.consumer_lag if watch else {},
        }

    @router.post("/admin/replay", summary="Publish retained events again", response_model=ReplayResult, dependencies=[Depends(require_roles(Role.ADMIN))])
    async def replay(request: Request, body: ReplayRequest) -> ReplayResult:
        """Queues the matching published events the outbox still keeps (see the retention) for
        publication again. Consumers recognise the event ids they processed, so a replay changes
        nothing for them; it refills a broker or a consumer that lost events."""
        runtime: ServiceRuntime = request.app.state.runtime
        async with runtime.uow_factory() as uow:
            by_topic = await OutboxRepository(uow.session, runtime.relay.tables).requeue_matching(body.as_filter())
            await uow.commit()
        total = sum(by_topic.values())
        runtime.metrics.events_republished.labels(runtime.settings.service_name, "replay").inc(total)
        runtime.relay.wake()
        logger.info("replay queued %d events again (%s)", total, body.model_dump(exclude_none=True))
        return ReplayResult(requeued=total, by_topic=by_topic)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> object:
        return metrics.render()

    return router


async def _database_problem(runtime: ServiceRuntime) -> str | None:
    try:
        async with runtime.engine.connect() as connection:
            async with asyncio.timeout(2):
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"database unreachable: {exc.__class__.__name__}"
    return None


class ReplayRequest(BaseModel):
    """Which retained events to publish again; every filter given must match."""

    since: datetime | None = Field(None, description="Events created at or after this time.")
    until: datetime | None = Field(None, description="Events created before this time.")
    buyer_id: str | None = Field(None, max_length=64, description="Only this buyer's events (the events' key).")
    topic: str | None = Field(None, description="Only this topic's events.")

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str | None) -> str | None:
        if value is not None and value not in all_topic_names(with_dead_letters=False):
            raise ValueError(f"unknown topic; one of {', '.join(all_topic_names(with_dead_letters=False))}")
        return value

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    def as_filter(self) -> ReplayFilter:
        return ReplayFilter(since=self.since, until=self.until, buyer_id=self.buyer_id, topic=self.topic)


class ReplayResult(BaseModel):
    requeued: int = Field(description="Events queued for publication again.")
    by_topic: dict[str, int]


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """Request-scoped unit of work; the route commits it explicitly (the request edge owns the transaction)."""
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.uow_factory() as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


async def unit_of_work_factory(request: Request) -> UnitOfWorkFactory:
    """For routes whose work spans several transactions (a re-grade of the book, a webhook dispatch pass)."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.uow_factory


UnitOfWorkFactoryDep = Annotated[UnitOfWorkFactory, Depends(unit_of_work_factory)]
