"""The scoring service's FastAPI app."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import FastAPI

from creditguard_scoring import SERVICE_NAME
from creditguard_scoring.assessment import api as assessment_api
from creditguard_scoring.assessment.service import AssessmentContext, AssessmentReassessment, load_risk_tables
from creditguard_scoring.buyers import api as buyers_api
from creditguard_scoring.calibration import api as calibration_api
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.context import ScoringContext
from creditguard_scoring.database import messaging_tables
from creditguard_scoring.financial_model import load_scorecard
from creditguard_scoring.jobs import debounced_reassessment_task
from creditguard_scoring.metrics import ScoringMetrics
from creditguard_scoring.models import load_all_models
from creditguard_scoring.payment_behaviour import api as payment_behaviour_api
from creditguard_scoring.payment_behaviour import handlers as payment_behaviour_handlers
from creditguard_scoring.settings import Settings
from creditguard_scoring.statements import api as statements_api
from creditguard_shared.clock import Clock
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.service_app import ConsumerSpec, create_service_app

load_all_models()
logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or Clock()
    metrics = ServiceMetrics(SERVICE_NAME)
    context = AssessmentContext(
        scorecard=load_scorecard(),
        tables=load_risk_tables(settings.risk_tables_dir),
        portfolio_base_rate=settings.portfolio_base_rate,
        stale_after_days=settings.statement_stale_after_days,
        max_reasons=settings.max_reasons,
        debounce=timedelta(seconds=settings.rescore_debounce_seconds),
        max_delay=timedelta(seconds=settings.rescore_max_delay_seconds),
        metrics=ScoringMetrics(metrics),
        base_calibration=Calibration.from_settings(settings),
    )

    reassessment = AssessmentReassessment(context)
    scoring = ScoringContext(assessment=context, reassessment=reassessment, clock=clock, regrade_chunk=settings.regrade_chunk)

    app = create_service_app(
        settings=settings,
        title="creditguard scoring",
        description="Buyer profiles, financial statements, payment behaviour, probability of default, grades and peers.",
        version="0.2.0",
        tables=messaging_tables,
        clock=clock,
        metrics=metrics,
        routers=[buyers_api.router, statements_api.router, assessment_api.router, payment_behaviour_api.router, calibration_api.router],
        # Every invoice, payment and late payment of the book arrives here: twenty per transaction.
        consumers=[
            ConsumerSpec(
                name=f"{SERVICE_NAME}-payment-behaviour",
                events_per_transaction=20,
                subscriptions=payment_behaviour_handlers.subscriptions(scoring),
                prepare_batch=payment_behaviour_handlers.read_ahead(scoring),
            )
        ],
        background_tasks=[debounced_reassessment_task(scoring, interval_seconds=settings.rescore_interval_seconds)],
    )
    app.state.scoring = scoring
    return app
