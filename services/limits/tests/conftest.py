"""The limits service in-process on a fresh database (SQLite and PostgreSQL) with the real broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from creditguard_shared.clock import Clock

TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def limits(start_service, databases, broker):
    # Consumers stay off unless a test needs them: group joins cost seconds per test.
    return await start_service(
        "limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=TODAY), consumers_enabled=False
    )


@pytest.fixture
async def limits_consuming(start_service, databases, broker):
    return await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=TODAY))
