"""What the lifespan creates, reachable from routes as ``request.app.state.console``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from creditguard_console.metrics import ConsoleMetrics
from creditguard_console.people.service import SignInPolicy
from creditguard_console.portfolio.service import PortfolioCache
from creditguard_console.settings import Settings
from creditguard_console.upstream.client import Upstream
from creditguard_shared.clock import Clock


@dataclass
class ConsoleContext:
    settings: Settings
    clock: Clock
    metrics: ConsoleMetrics
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    upstream: Upstream | None = None
    portfolio_cache: PortfolioCache = field(default_factory=lambda: PortfolioCache(seconds=0))

    @property
    def sign_in_policy(self) -> SignInPolicy:
        return SignInPolicy(lock_after=self.settings.lock_out_after_failures, lock_minutes=self.settings.lock_out_minutes)


def console_context(request: Request) -> ConsoleContext:
    return request.app.state.console


ContextDep = Annotated[ConsoleContext, Depends(console_context)]


def services_client(context: ContextDep) -> Upstream:
    """The client of the three services, which the lifespan opens: a route reached before it (or after it) has none."""
    if context.upstream is None:
        raise RuntimeError("the console's services client is not open: the app's lifespan has not started")
    return context.upstream


UpstreamDep = Annotated[Upstream, Depends(services_client)]
