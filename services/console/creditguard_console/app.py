"""The console's FastAPI app: server-rendered pages over the three services' APIs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from creditguard_console import SERVICE_NAME, jobs
from creditguard_console.accounts import api as accounts_api
from creditguard_console.context import ConsoleContext
from creditguard_console.imports import api as imports_api
from creditguard_console.inbox import api as inbox_api
from creditguard_console.metrics import ConsoleMetrics
from creditguard_console.models import load_all_models
from creditguard_console.pages.errors import install_page_errors
from creditguard_console.pages.security import SecurityHeadersMiddleware
from creditguard_console.people import api as people_api
from creditguard_console.portfolio import api as portfolio_api
from creditguard_console.portfolio.service import PortfolioCache
from creditguard_console.referrals import api as referrals_api
from creditguard_console.search import api as search_api
from creditguard_console.sessions import api as sessions_api
from creditguard_console.settings import Settings
from creditguard_console.upstream.client import Upstream
from creditguard_shared.api_docs import install_local_docs
from creditguard_shared.clock import Clock
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.errors import install_problem_handlers, problem_response
from creditguard_shared.metrics import HttpMetricsMiddleware, ServiceMetrics
from creditguard_shared.observability import configure_logging
from creditguard_shared.schema_types import storable_text
from creditguard_shared.service_app import CorrelationIdMiddleware

load_all_models()
logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    """``transports``: how to reach each service instead of its URL (tests run them in-process)."""
    settings = settings or Settings()
    clock = clock or Clock()
    metrics = ServiceMetrics(settings.service_name)
    context = ConsoleContext(
        settings=settings, clock=clock, metrics=ConsoleMetrics(metrics), portfolio_cache=PortfolioCache(seconds=settings.portfolio_cache_seconds)
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level, json_format=settings.log_json)
        context.engine = create_engine(settings.database_url)
        context.session_factory = create_session_factory(context.engine)
        context.upstream = Upstream(
            urls={"scoring": settings.scoring_url, "limits": settings.limits_url, "alerts": settings.alerts_url},
            api_key=settings.api_key,
            timeout=settings.upstream_timeout_seconds,
            metrics=context.metrics,
            transports=transports,
        )
        if not settings.api_key:
            logger.warning("CONSOLE_API_KEY is empty: every page that reads a service will fail")
        logger.info("%s started on database %s", settings.service_name, context.engine.url.render_as_string(hide_password=True))
        warming = jobs.start_portfolio_warm_up(context)
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
                await asyncio.gather(warming, return_exceptions=True)
            await context.upstream.close()
            await context.engine.dispose()

    app = FastAPI(
        title="creditguard console",
        description="The credit desk: referral queue, accounts, portfolio, inbox.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(storable_text)],
    )
    install_local_docs(app)
    app.state.console = context
    app.state.metrics = metrics
    app.state.clock = clock
    install_problem_handlers(app)
    install_page_errors(app)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    app.mount("/static", StaticFiles(directory=Path(str(resources.files("creditguard_console").joinpath("static")))), name="static")
    app.include_router(_operations_router(context, metrics))
    for router in (
        sessions_api.router,
        referrals_api.router,
        accounts_api.router,
        portfolio_api.router,
        inbox_api.router,
        search_api.router,
        imports_api.router,
        people_api.router,
    ):
        app.include_router(router)
    return app


def _operations_router(context: ConsoleContext, metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="Database reachable", responses={503: {"description": "Not ready"}})
    async def ready() -> JSONResponse:
        # The services' own health is theirs to report: a console whose database answers can sign
        # people in and show which service is down.
        try:
            assert context.engine is not None
            async with context.engine.connect() as connection:
                async with asyncio.timeout(2):
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return problem_response(status=503, problem_type="not-ready", detail=f"database unreachable: {exc.__class__.__name__}", checks={"database": False})
        return JSONResponse({"status": "ready", "checks": {"database": True}})

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return metrics.render()

    return router


__all__ = ["SERVICE_NAME", "create_app"]
