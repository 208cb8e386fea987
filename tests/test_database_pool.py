"""The PostgreSQL pool (shared/creditguard_shared/database.py) pings a connection only after it sat
idle: one the server dropped meanwhile is replaced before use, one in steady use costs nothing; a
connection lost under a request is a retryable 503 problem (shared/creditguard_shared/errors.py)."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine.interfaces import DBAPIConnection

from creditguard_shared import database
from creditguard_shared.database import create_engine
from creditguard_shared.errors import PROBLEM_CONTENT_TYPE, install_problem_handlers
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


@pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
async def test_a_connection_lost_under_a_request_is_a_503_and_the_next_request_is_served(databases) -> None:
    """A connection in steady use is not pinged: if the server drops it, the request that meets
    it fails as a retryable 503 problem (not a 500), and the pool serves the next one afresh."""
    engine = create_engine(await databases.create("lost"))
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/backend")
    async def backend() -> int:
        async with engine.connect() as connection:
            return int((await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://127.0.0.1") as client:
            pid = (await client.get("/backend")).json()
            admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            lost = await client.get("/backend")
            assert lost.status_code == 503, lost.text
            assert lost.headers["content-type"] == PROBLEM_CONTENT_TYPE and lost.headers["retry-after"] == "1"
            assert lost.json()["type"].endswith("/database-unavailable")
            served = await client.get("/backend")
            assert served.status_code == 200 and served.json() != pid
    finally:
        await engine.dispose()
