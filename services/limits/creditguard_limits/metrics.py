"""The limits service's domain metrics, on the app's registry. No per-buyer labels."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from creditguard_shared.metrics import LATENCY_BUCKETS, ServiceMetrics

OVERDUE_BUCKETS = ("1-15", "16-30", "31-60", "61-90", "90+")
UTILISATION_BUCKETS = ("0-50", "50-80", "80-100", "100+")


class LimitsMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        r = metrics.registry
        self.checks = Counter("creditguard_credit_checks_total", "Credit checks by decision.", ["decision"], registry=r)
        self.reasons = Counter("creditguard_credit_check_reasons_total", "Reasons given on credit checks, by code.", ["code"], registry=r)
        self.check_duration = Histogram(
            "creditguard_credit_check_duration_seconds",
            "Time to decide a credit check (the decision, not the HTTP round trip).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.referred_pending = Gauge("creditguard_referred_checks_pending", "Referred credit checks waiting for a credit manager.", registry=r)
        self.portfolio_exposure = Gauge(
            "creditguard_portfolio_exposure_amount",
            "Total exposure (open invoices and orders) in the reporting currency.",
            registry=r,
        )
        self.portfolio_uninsured = Gauge(
            "creditguard_portfolio_uninsured_exposure_amount",
            "Exposure not covered by credit insurance, reporting currency.",
            registry=r,
        )
        self.portfolio_overdue = Gauge(
            "creditguard_portfolio_overdue_amount",
            "Overdue open invoices by days-past-due bucket, reporting currency.",
            ["bucket"],
            registry=r,
        )
        self.buyers_by_utilisation = Gauge(
            "creditguard_portfolio_buyers_by_utilisation",
            "Buyers with a limit, by utilisation bucket (percent).",
            ["bucket"],
            registry=r,
        )
