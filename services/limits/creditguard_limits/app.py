"""The limits service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from creditguard_limits import SERVICE_NAME
from creditguard_limits.database import messaging_tables
from creditguard_limits.ledger import api as ledger_api
from creditguard_limits.ledger import handlers as ledger_handlers
from creditguard_limits.models import load_all_models
from creditguard_limits.settings import Settings
from creditguard_shared.clock import Clock
from creditguard_shared.service_app import ConsumerSpec, create_service_app

load_all_models()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        title="creditguard limits",
        description="Credit limits, the exposure ledger and order-entry credit checks.",
        version="0.1.0",
        tables=messaging_tables,
        clock=clock,
        routers=[ledger_api.router],
        consumers=[ConsumerSpec(name=f"{SERVICE_NAME}-ledger", subscriptions=ledger_handlers.SUBSCRIPTIONS)],
    )
