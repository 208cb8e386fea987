"""The console's own metrics, beside the HTTP ones every service has."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from creditguard_shared.metrics import LATENCY_BUCKETS, ServiceMetrics


class ConsoleMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.service = metrics.service
        self.upstream_duration = Histogram(
            "creditguard_console_upstream_request_duration_seconds",
            "Calls from the console to a service, by service called, method and status.",
            ["service", "upstream", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=metrics.registry,
        )
        self.sign_ins = Counter(
            "creditguard_console_sign_ins_total",
            "Sign-in attempts by outcome (signed_in, refused, locked_out).",
            ["service", "outcome"],
            registry=metrics.registry,
        )
