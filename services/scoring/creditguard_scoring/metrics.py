"""The scoring service's domain metrics, on the app's own registry."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from creditguard_shared.metrics import ServiceMetrics

ASSESSMENT_TRIGGERS = ("api", "statement", "profile", "payment_behaviour", "batch")


class ScoringMetrics:
    """Labelled by service like the shared metrics, so one dashboard query covers every service."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        registry = metrics.registry
        self.service = metrics.service
        self.assessments = Counter(
            "creditguard_assessments_total",
            "Completed buyer assessments, by what triggered them.",
            ["service", "trigger"],
            registry=registry,
        )
        self.assessment_duration = Histogram(
            "creditguard_assessment_duration_seconds",
            "Time to assess one buyer (loading its data, scoring, storing).",
            ["service"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=registry,
        )
        self.score_changes = Counter(
            "creditguard_score_changes_total",
            "Grade changes of already assessed buyers, by direction.",
            ["service", "direction"],
            registry=registry,
        )
        for trigger in ASSESSMENT_TRIGGERS:
            self.assessments.labels(self.service, trigger)
        for direction in ("upgrade", "downgrade"):
            self.score_changes.labels(self.service, direction)

    def assessed(self, *, trigger: str, seconds: float) -> None:
        self.assessments.labels(self.service, trigger).inc()
        self.assessment_duration.labels(self.service).observe(seconds)

    def grade_changed(self, *, old_grade: int, new_grade: int) -> None:
        self.score_changes.labels(self.service, "upgrade" if new_grade < old_grade else "downgrade").inc()
