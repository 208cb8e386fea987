"""Builds the Grafana dashboards with Grafana's own Foundation SDK and writes them to
deploy/grafana/dashboards/ (``python deploy/grafana/build_dashboards.py``; a test checks the
committed JSON is current and that every query returns data from a real Prometheus)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
RATE = "[$__rate_interval]"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    description: str = ""
    width: int = 12


def _panel(spec: PanelSpec):
    builder = (stat.Panel() if spec.kind == "stat" else timeseries.Panel()).title(spec.title).unit(spec.unit).datasource(DATASOURCE).height(8).span(spec.width)
    if spec.description:
        builder = builder.description(spec.description)
    for index, query in enumerate(spec.queries):
        target = prometheus.Dataquery().expr(query.expr).ref_id(chr(ord("A") + index)).datasource(DATASOURCE)
        if query.legend:
            target = target.legend_format(query.legend)
        builder = builder.with_target(target)
    return builder


def _ratio(numerator: str, denominator: str, by: str) -> str:
    # "or ... * 0" keeps a zero series when the numerator has no samples (no errors yet).
    return f"(sum by ({by}) ({numerator}) or sum by ({by}) ({denominator}) * 0) / sum by ({by}) ({denominator})"


OPERATIONS: dict[str, list[PanelSpec]] = {
    "Services": [
        PanelSpec("Services up", (Query('up{job=~"creditguard-.*"}', "{{job}}"),), kind="stat", width=6),
        PanelSpec("Broker connected", (Query("creditguard_broker_connected", "{{service}}"),), kind="stat", width=6),
        PanelSpec(
            "Request rate by route", (Query(f"sum by (service, route) (rate(creditguard_http_requests_total{RATE}))", "{{service}} {{route}}"),), unit="reqps"
        ),
        PanelSpec(
            "Error ratio (5xx) by service",
            (
                Query(
                    _ratio(f'rate(creditguard_http_requests_total{{status=~"5.."}}{RATE})', f"rate(creditguard_http_requests_total{RATE})", "service"),
                    "{{service}}",
                ),
            ),
            unit="percentunit",
        ),
        PanelSpec(
            "Client errors (4xx) by route",
            (Query(f'sum by (service, route, status) (rate(creditguard_http_requests_total{{status=~"4.."}}{RATE}))', "{{service}} {{route}} {{status}}"),),
            unit="reqps",
        ),
        PanelSpec(
            "Latency p50 / p99 by route",
            (
                Query(
                    f"histogram_quantile(0.5, sum by (service, route, le) (rate(creditguard_http_request_duration_seconds_bucket{RATE})))",
                    "p50 {{service}} {{route}}",
                ),
                Query(
                    f"histogram_quantile(0.99, sum by (service, route, le) (rate(creditguard_http_request_duration_seconds_bucket{RATE})))",
                    "p99 {{service}} {{route}}",
                ),
            ),
            unit="s",
            width=24,
        ),
    ],
    "Events": [
        PanelSpec("Consumer lag by topic", (Query("sum by (service, topic) (creditguard_consumer_lag_messages)", "{{service}} {{topic}}"),)),
        PanelSpec(
            "Events consumed by outcome",
            (Query(f"sum by (service, topic, outcome) (rate(creditguard_events_consumed_total{RATE}))", "{{service}} {{topic}} {{outcome}}"),),
            unit="ops",
        ),
        PanelSpec("Outbox backlog", (Query("creditguard_outbox_pending_events", "{{service}}"),)),
        PanelSpec("Oldest unsent outbox event", (Query("creditguard_outbox_oldest_pending_age_seconds", "{{service}}"),), unit="s"),
        PanelSpec(
            "Events published", (Query(f"sum by (service, topic) (rate(creditguard_events_published_total{RATE}))", "{{service}} {{topic}}"),), unit="ops"
        ),
        PanelSpec(
            "Dead-lettered messages",
            (Query("sum by (service, topic, reason) (increase(creditguard_events_dead_lettered_total[1h]))", "{{service}} {{topic}} {{reason}}"),),
        ),
        PanelSpec("Consumer group lag (committed offsets)", (Query("sum by (group, topic) (creditguard_consumer_group_lag_messages)", "{{group}} {{topic}}"),)),
        PanelSpec(
            "Seconds since the broker last acknowledged an event",
            (Query("time() - creditguard_outbox_last_publish_timestamp_seconds", "{{service}}"),),
            unit="s",
        ),
        PanelSpec(
            "Broker losses found and events republished",
            (
                # Both counters have no series until the first loss or replay: shown as 0 until then.
                Query("sum by (service, reason) (increase(creditguard_broker_data_loss_detected_total[1h])) or on() vector(0)", "lost: {{service}} {{reason}}"),
                Query("sum by (service, reason) (increase(creditguard_events_republished_total[1h])) or on() vector(0)", "republished: {{service}} {{reason}}"),
            ),
        ),
        PanelSpec("Topics differing from the catalogue", (Query("creditguard_topic_mismatches", "{{service}}"),), kind="stat", width=6),
        PanelSpec(
            "Outbox events pruned after the retention",
            (Query("sum by (service) (increase(creditguard_outbox_pruned_total[1d])) or on() vector(0)", "{{service}}"),),
            width=6,
        ),
    ],
    "Console": [
        PanelSpec(
            "Console calls to the services p95 by service called",
            (
                Query(
                    f"histogram_quantile(0.95, sum by (upstream, le) (rate(creditguard_console_upstream_request_duration_seconds_bucket{RATE})))",
                    "p95 {{upstream}}",
                ),
            ),
            unit="s",
        ),
        PanelSpec("Sign-ins by outcome", (Query(f"sum by (outcome) (rate(creditguard_console_sign_ins_total{RATE}))", "{{outcome}}"),), unit="ops"),
    ],
    "Webhooks": [
        PanelSpec("Webhook deliveries by result", (Query(f"sum by (result) (rate(creditguard_webhook_deliveries_total{RATE}))", "{{result}}"),), unit="ops"),
        PanelSpec(
            "Webhook success ratio",
            (
                Query(
                    _ratio(
                        f'rate(creditguard_webhook_deliveries_total{{result="delivered"}}{RATE})', f"rate(creditguard_webhook_deliveries_total{RATE})", "job"
                    ),
                    "{{job}}",
                ),
            ),
            unit="percentunit",
        ),
        PanelSpec(
            "Webhook latency p50 / p95",
            (
                Query(f"histogram_quantile(0.5, sum by (le) (rate(creditguard_webhook_delivery_duration_seconds_bucket{RATE})))", "p50"),
                Query(f"histogram_quantile(0.95, sum by (le) (rate(creditguard_webhook_delivery_duration_seconds_bucket{RATE})))", "p95"),
            ),
            unit="s",
            width=24,
        ),
    ],
}

PORTFOLIO: dict[str, list[PanelSpec]] = {
    "Credit decisions": [
        PanelSpec("Credit-check decisions", (Query(f"sum by (decision) (rate(creditguard_credit_checks_total{RATE}))", "{{decision}}"),), unit="ops"),
        PanelSpec(
            "Approval rate",
            (
                Query(
                    _ratio(
                        f'rate(creditguard_credit_checks_total{{decision=~"approved|approved_with_conditions"}}{RATE})',
                        f"rate(creditguard_credit_checks_total{RATE})",
                        "job",
                    ),
                    "{{job}}",
                ),
            ),
            unit="percentunit",
        ),
        PanelSpec("Top reason codes (1h)", (Query("topk(10, sum by (code) (increase(creditguard_credit_check_reasons_total[1h])))", "{{code}}"),)),
        PanelSpec(
            "Credit-check latency p50 / p99",
            (
                Query(f"histogram_quantile(0.5, sum by (le) (rate(creditguard_credit_check_duration_seconds_bucket{RATE})))", "p50"),
                Query(f"histogram_quantile(0.99, sum by (le) (rate(creditguard_credit_check_duration_seconds_bucket{RATE})))", "p99"),
            ),
            unit="s",
        ),
        PanelSpec("Referred orders waiting", (Query("creditguard_referred_checks_pending", "pending"),), kind="stat", width=6),
        PanelSpec(
            "Assessments and score changes",
            (
                Query(f"sum by (trigger) (rate(creditguard_assessments_total{RATE}))", "assessments {{trigger}}"),
                Query("sum by (direction) (increase(creditguard_score_changes_total[1h]))", "score changes {{direction}} (1h)"),
            ),
            width=18,
        ),
    ],
    "Exposure": [
        PanelSpec("Total exposure", (Query("creditguard_portfolio_exposure_amount", "exposure"),), kind="stat", width=6),
        PanelSpec("Uninsured exposure", (Query("creditguard_portfolio_uninsured_exposure_amount", "uninsured"),), kind="stat", width=6),
        PanelSpec("Overdue by bucket (days past due)", (Query("sum by (bucket) (creditguard_portfolio_overdue_amount)", "{{bucket}}"),)),
        PanelSpec("Buyers by limit utilisation (%)", (Query("sum by (bucket) (creditguard_portfolio_buyers_by_utilisation)", "{{bucket}}"),), width=24),
    ],
    "Alerts and collections": [
        PanelSpec("Open alerts by severity", (Query("sum by (severity) (creditguard_alerts_open)", "{{severity}}"),)),
        PanelSpec(
            "Alerts raised by rule (1h)", (Query("sum by (rule_type, severity) (increase(creditguard_alerts_raised_total[1h]))", "{{rule_type}} {{severity}}"),)
        ),
        PanelSpec("Open collection cases by level", (Query("sum by (level) (creditguard_collection_cases_open)", "{{level}}"),), width=24),
    ],
}


def build(uid: str, title: str, rows: dict[str, list[PanelSpec]]) -> dict:
    builder = dashboard.Dashboard(title).uid(uid).tags(["creditguard", "generated"]).refresh("30s").time("now-6h", "now").timezone("browser")
    for row_title, panels in rows.items():
        builder = builder.with_row(dashboard.Row(row_title))
        for spec in panels:
            builder = builder.with_panel(_panel(spec))
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))


def dashboards() -> dict[str, dict]:
    return {
        "creditguard-operations.json": build("creditguard-operations", "creditguard / operations", OPERATIONS),
        "creditguard-portfolio.json": build("creditguard-portfolio", "creditguard / credit portfolio", PORTFOLIO),
    }


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DASHBOARD_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, document in dashboards().items():
        (args.out / name).write_text(render(document))
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
