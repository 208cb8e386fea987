"""The limits service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from creditguard_limits import SERVICE_NAME
from creditguard_limits.accounts import api as accounts_api
from creditguard_limits.accounts import handlers as accounts_handlers
from creditguard_limits.checks import api as checks_api
from creditguard_limits.context import LimitsContext
from creditguard_limits.database import messaging_tables
from creditguard_limits.fx import api as fx_api
from creditguard_limits.imports import api as imports_api
from creditguard_limits.insurance import api as insurance_api
from creditguard_limits.jobs import daily_sweep_task, portfolio_metrics_task
from creditguard_limits.ledger import api as ledger_api
from creditguard_limits.ledger import handlers as ledger_handlers
from creditguard_limits.metrics import LimitsMetrics
from creditguard_limits.models import load_all_models
from creditguard_limits.policy.service import PolicyStore
from creditguard_limits.portfolio import api as portfolio_api
from creditguard_limits.position import api as position_api
from creditguard_limits.settings import Settings
from creditguard_shared.clock import Clock
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.service_app import ConsumerSpec, create_service_app

load_all_models()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or Clock()
    metrics = ServiceMetrics(settings.service_name)
    # The policy file is parsed here, so a broken policy stops start-up instead of the first check.
    context = LimitsContext(
        settings=settings,
        clock=clock,
        policy=PolicyStore(settings.policy_file or None, recheck_seconds=settings.policy_recheck_seconds),
        metrics=LimitsMetrics(metrics),
    )
    app = create_service_app(
        settings=settings,
        title="creditguard limits",
        description="Credit limits, the exposure ledger and order-entry credit checks.",
        version="0.1.0",
        tables=messaging_tables,
        clock=clock,
        metrics=metrics,
        routers=[
            checks_api.router,
            accounts_api.router,
            position_api.router,
            ledger_api.router,
            insurance_api.router,
            fx_api.router,
            portfolio_api.router,
            imports_api.router,
        ],
        consumers=[
            # Every re-assessment in scoring arrives here as an event: a transaction each was a commit
            # per buyer per day. Twenty at a time; a failing batch is redone one event at a time.
            ConsumerSpec(name=f"{SERVICE_NAME}-ledger", subscriptions=ledger_handlers.subscriptions(context), events_per_transaction=20),
            ConsumerSpec(
                name=f"{SERVICE_NAME}-accounts",
                subscriptions=accounts_handlers.subscriptions(context),
                events_per_transaction=20,
                prepare_batch=accounts_handlers.read_ahead(context),
            ),
        ],
        background_tasks=[daily_sweep_task(context), portfolio_metrics_task(context)],
    )
    app.state.limits = context
    return app
