"""The scoring service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from creditguard_scoring import SERVICE_NAME
from creditguard_scoring.database import messaging_tables
from creditguard_scoring.models import load_all_models
from creditguard_scoring.payment_behaviour import api as payment_behaviour_api
from creditguard_scoring.payment_behaviour import handlers as payment_behaviour_handlers
from creditguard_scoring.settings import Settings
from creditguard_shared.clock import Clock
from creditguard_shared.service_app import ConsumerSpec, create_service_app

load_all_models()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        title="creditguard scoring",
        description="Buyer profiles, financial statements, payment behaviour, probability of default, grades and peers.",
        version="0.1.0",
        tables=messaging_tables,
        clock=clock,
        routers=[payment_behaviour_api.router],
        consumers=[ConsumerSpec(name=f"{SERVICE_NAME}-payment-behaviour", subscriptions=payment_behaviour_handlers.SUBSCRIPTIONS)],
    )
