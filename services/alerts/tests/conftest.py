from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from creditguard_shared.clock import Clock
from services.alerts.tests.receiver import WebhookReceiver, start_receiver

START = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    instance, server, task = await start_receiver()
    yield instance
    server.should_exit = True
    await task


@pytest.fixture
async def alerts(start_service, databases, broker):
    """The alerts service on a fixed, movable clock; webhooks may target loopback only."""
    return await start_service(
        "alerts",
        database_url=await databases.create("alerts"),
        bootstrap_servers=broker.bootstrap_servers,
        clock=Clock(fixed=START),
        webhook_allowed_networks="127.0.0.0/8",
        webhook_dispatch_interval_seconds=0.1,
        sweep_interval_seconds=3600,
    )
