"""The PostgreSQL pool (shared/creditguard_shared/database.py) pings a connection only after it sat
idle: one the server dropped meanwhile is replaced before use, one in steady use costs nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine.interfaces import DBAPIConnection

from creditguard_shared import database
from creditguard_shared.database import create_engine
from tests.fixtures.infrastructure import POSTGRES_ADMIN_DSN


@pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
async def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL connections are pinged only after sitting idle (database.PING_AFTER_IDLE_SECONDS):
    one the server dropped meanwhile is replaced, and one in steady use costs no ping."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.2)
    url = await databases.create("ping")
    engine = create_engine(url)
    pings: list[object] = []
    original_ping = engine.sync_engine.dialect.do_ping

    def counted_ping(connection: DBAPIConnection) -> bool:
        pings.append(connection)
        return original_ping(connection)

    monkeypatch.setattr(engine.sync_engine.dialect, "do_ping", counted_ping)
    try:
        async with engine.connect() as connection:
            backend_pid = (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        for _ in range(3):  # in steady use: no ping
            async with engine.connect() as connection:
                assert (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one() == backend_pid
        assert pings == []
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend_pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one() != backend_pid
        assert len(pings) == 1
    finally:
        await engine.dispose()
