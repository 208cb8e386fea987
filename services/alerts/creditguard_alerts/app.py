"""The alerts service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from creditguard_alerts import SERVICE_NAME, jobs
from creditguard_alerts.alerting import api as alerting_api
from creditguard_alerts.alerting import handlers as alerting_handlers
from creditguard_alerts.buyers import api as buyers_api
from creditguard_alerts.collections import api as collections_api
from creditguard_alerts.collections import handlers as collections_handlers
from creditguard_alerts.database import messaging_tables
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
    return create_service_app(
        settings=settings,
        title="creditguard alerts",
        description="Early-warning rules, collection escalation and signed webhooks to sales.",
        version="0.1.0",
        tables=messaging_tables,
        clock=clock,
        metrics=AlertsMetrics(settings.service_name),
        on_startup=jobs.install_defaults,
        routers=[receivables_api.router, buyers_api.router, alerting_api.router, collections_api.router, webhooks_api.router],
        consumers=[
            # Alerts reads every exposure, limit and score event of the book: a transaction each
            # was most of its time under load. Twenty at a time keeps the database free for the API.
            ConsumerSpec(
                name=f"{SERVICE_NAME}-receivables",
                subscriptions=collections_handlers.subscriptions,
                events_per_transaction=20,
                prepare_batch=collections_handlers.read_ahead,
            ),
            ConsumerSpec(
                name=f"{SERVICE_NAME}-monitoring",
                subscriptions=alerting_handlers.subscriptions,
                events_per_transaction=20,
                prepare_batch=alerting_handlers.read_ahead,
            ),
        ],
        background_tasks=[jobs.sweep_loop, jobs.dispatch_loop],
    )
