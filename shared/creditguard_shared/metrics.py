"""Prometheus metrics: one registry per app so several apps can live in one process (tests)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The metrics every service exposes; services add domain metrics to ``registry``."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "creditguard_http_requests_total",
            "HTTP requests by route template and status.",
            ["service", "method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "creditguard_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_consumed = Counter(
            "creditguard_events_consumed_total",
            "Events consumed by topic and outcome (processed, duplicate, ignored).",
            ["service", "topic", "outcome"],
            registry=r,
        )
        self.events_failed = Counter(
            "creditguard_events_failed_total",
            "Handler attempts that raised, by topic.",
            ["service", "topic"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "creditguard_events_dead_lettered_total",
            "Messages sent to a dead-letter topic, by source topic and reason.",
            ["service", "topic", "reason"],
            registry=r,
        )
        self.events_published = Counter(
            "creditguard_events_published_total",
            "Outbox events published to the broker, by topic.",
            ["service", "topic"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "creditguard_outbox_pending_events",
            "Outbox events written but not yet published.",
            ["service"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "creditguard_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox event.",
            ["service"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "creditguard_consumer_lag_messages",
            "Messages behind the partition's end, by topic and partition.",
            ["service", "topic", "partition"],
            registry=r,
        )
        self.broker_up = Gauge(
            "creditguard_broker_connected",
            "1 while the broker answers this service's metadata probe.",
            ["service"],
            registry=r,
        )
        self.last_publish = Gauge(
            "creditguard_outbox_last_publish_timestamp_seconds",
            "When the broker last acknowledged an outbox event (Unix time).",
            ["service"],
            registry=r,
        )
        self.consumer_group_lag = Gauge(
            "creditguard_consumer_group_lag_messages",
            "Messages past the consumer group's committed offsets, by group and topic, as the broker reports them.",
            ["service", "group", "topic"],
            registry=r,
        )
        self.broker_data_loss = Counter(
            "creditguard_broker_data_loss_detected_total",
            "Times a service found the broker had lost published events (the relay) or a group's committed offsets (a consumer), by how it noticed.",
            ["service", "reason"],
            registry=r,
        )
        self.events_republished = Counter(
            "creditguard_events_republished_total",
            "Outbox events queued again, because the broker lost them or an operator replayed them.",
            ["service", "reason"],
            registry=r,
        )
        self.outbox_pruned = Counter(
            "creditguard_outbox_pruned_total",
            "Published outbox events deleted after the retention.",
            ["service"],
            registry=r,
        )
        self.topic_mismatches = Gauge(
            "creditguard_topic_mismatches",
            "Differences between the broker's topics and the event catalogue (partitions, settings, missing).",
            ["service"],
            registry=r,
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware overhead); labels by route template, never raw path."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.http_requests.labels(self.metrics.service, method, template, str(status_holder["status"])).inc()
            self.metrics.http_duration.labels(self.metrics.service, method, template).observe(time.perf_counter() - started)
