"""The alerts service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from creditguard_alerts import SERVICE_NAME, jobs
from creditguard_alerts.buyers import api as buyers_api
from creditguard_alerts.collection_cases import api as collection_cases_api
from creditguard_alerts.collection_cases import handlers as collection_cases_handlers
from creditguard_alerts.context import AlertsContextSource
from creditguard_alerts.database import messaging_tables
from creditguard_alerts.early_warning import api as early_warning_api
from creditguard_alerts.early_warning import handlers as early_warning_handlers
from creditguard_alerts.metrics import AlertsMetrics
from creditguard_alerts.models import load_all_models
from creditguard_alerts.receivables import api as receivables_api
from creditguard_alerts.settings import Settings
from creditguard_alerts.webhooks import api as webhooks_api
from creditguard_shared.clock import Clock
from creditguard_shared.service_app import ConsumerSpec, create_service_app

load_all_models()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or Clock()
    metrics = AlertsMetrics(settings.service_name)
    source = AlertsContextSource(settings=settings, clock=clock, metrics=metrics)
    app = create_service_app(
        settings=settings,
        title="creditguard alerts",
        description="Early-warning rules, collection escalation and signed webhooks to sales.",
        version="0.1.0",
        tables=messaging_tables,
        clock=clock,
        metrics=metrics,
        on_startup=jobs.install_defaults(source),
        routers=[receivables_api.router, buyers_api.router, early_warning_api.router, collection_cases_api.router, webhooks_api.router],
        consumers=[
            # Alerts reads every exposure, limit and score event of the book: a transaction each
            # was most of its time under load. Twenty at a time keeps the database free for the API.
            ConsumerSpec(
                name=f"{SERVICE_NAME}-receivables",
                subscriptions=collection_cases_handlers.subscriptions(source),
                events_per_transaction=20,
                prepare_batch=collection_cases_handlers.read_ahead,
            ),
            ConsumerSpec(
                name=f"{SERVICE_NAME}-monitoring",
                subscriptions=early_warning_handlers.subscriptions(source),
                events_per_transaction=20,
                prepare_batch=early_warning_handlers.read_ahead,
            ),
        ],
        background_tasks=[jobs.sweep_task(source), jobs.dispatch_task(source)],
    )
    app.state.alerts = source
    return app
