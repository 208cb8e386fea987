"""The alerts service's domain metrics, on the app's own registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from creditguard_shared.metrics import LATENCY_BUCKETS, ServiceMetrics


class AlertsMetrics(ServiceMetrics):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        r = self.registry
        self.webhook_deliveries = Counter(
            "creditguard_webhook_deliveries_total",
            "Webhook delivery attempts by result (delivered, failed_attempt, gave_up).",
            ["service", "result"],
            registry=r,
        )
        self.webhook_duration = Histogram(
            "creditguard_webhook_delivery_duration_seconds",
            "Duration of one webhook delivery attempt.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts_raised = Counter(
            "creditguard_alerts_raised_total",
            "Alerts raised, by rule type and severity at raising.",
            ["service", "rule_type", "severity"],
            registry=r,
        )
        self.alerts_open = Gauge(
            "creditguard_alerts_open",
            "Open (unresolved) alerts by current severity.",
            ["service", "severity"],
            registry=r,
        )
        self.collection_cases_open = Gauge(
            "creditguard_collection_cases_open",
            "Open collection cases by strategy level.",
            ["service", "level"],
            registry=r,
        )
