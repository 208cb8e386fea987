"""Limits served by two worker processes on one PostgreSQL database: hundreds of simultaneous
credit checks for one buyer never commit more than its limit, a re-sent order gets its first
decision whichever process answers, every decision has its event in the outbox, and the daily
jobs run in one process only."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest

from creditguard_local.stack import free_port, wait_for_port
from creditguard_shared.auth.keys import Role, add_key
from creditguard_shared.leadership import lock_key
from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.service_cli import migrations_dir
from tests.fixtures.infrastructure import POSTGRES_ADMIN_DSN

ORDERS = 200
ORDER_AMOUNT = Decimal("1000.00")
LIMIT = Decimal("100000.00")


@pytest.fixture
async def postgres_database() -> AsyncIterator[tuple[str, str]]:
    name = f"cg_test_workers_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    yield dsn, dsn.replace("postgresql://", "postgresql+asyncpg://")
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_two_workers_never_commit_more_than_the_limit(postgres_database: tuple[str, str], tmp_path: Path) -> None:
    dsn, url = postgres_database
    await asyncio.to_thread(upgrade_to_head, migrations_dir("creditguard_limits"), url)
    keys = tmp_path / "api-keys.json"
    erp = {"Authorization": f"Bearer {add_key(keys, role=Role.ERP, name='erp')[0]}"}
    manager = {"Authorization": f"Bearer {add_key(keys, role=Role.CREDIT_MANAGER, name='manager')[0]}"}
    port = free_port()
    log = tmp_path / "limits.log"
    env = {
        **os.environ,
        "LIMITS_DATABASE_URL": url,
        "LIMITS_API_KEYS_FILE": str(keys),
        "LIMITS_RELAY_ENABLED": "false",
        "LIMITS_CONSUMERS_ENABLED": "false",
        "LIMITS_LOG_LEVEL": "INFO",
    }
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: ASYNC220 - starts the server and returns; the test signals and waits for it in its own way
            [sys.executable, "-m", "creditguard_limits.cli", "serve", "--workers", "2", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        try:
            await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 120)
        except TimeoutError:
            raise AssertionError(f"limits did not start: {log.read_text()[-3000:]}") from None
        base = f"http://127.0.0.1:{port}"
        # No keep-alive: a pooled connection the server closes as idle while the client picks it
        # up again is a client-side race, not what this test is about.
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=100, max_keepalive_connections=0)) as client:
            response = await client.put(
                "/v1/buyers/B-1/limit", headers=manager, json={"amount": str(LIMIT), "currency": "EUR", "payment_terms_days": 60, "reason": "test"}
            )
            assert response.status_code == 200, response.text
            limit = Decimal((await client.get("/v1/buyers/B-1/exposure", headers=erp)).json()["limit"])
            assert limit > 0

            def order(n: int) -> dict:
                return {"buyer_id": "B-1", "order_id": f"SO-{n}", "amount": str(ORDER_AMOUNT), "currency": "EUR", "payment_terms_days": 30}

            answers = await asyncio.gather(*(client.post("/v1/credit-checks", headers=erp, json=order(n)) for n in range(ORDERS)))
            assert Counter(a.status_code for a in answers) == {201: ORDERS}, [a.text for a in answers if a.status_code != 201][:3]
            decisions = {a.json()["order_id"]: a.json()["decision"] for a in answers}
            approved = [o for o, d in decisions.items() if d in ("approved", "approved_with_conditions")]
            # Serialised on the account's row lock: exactly as many orders as fit, never one more.
            assert len(approved) * ORDER_AMOUNT <= limit
            assert len(approved) == int(limit // ORDER_AMOUNT)

            # The same orders again, at once: each gets its stored decision, nothing is reserved twice.
            again = await asyncio.gather(*(client.post("/v1/credit-checks", headers=erp, json=order(n)) for n in range(0, ORDERS, 3)))
            assert {a.status_code for a in again} == {200}
            assert all(a.json()["decision"] == decisions[a.json()["order_id"]] for a in again)
            exposure = (await client.get("/v1/buyers/B-1/exposure", headers=erp)).json()
            assert Decimal(exposure["open_orders"]) == len(approved) * ORDER_AMOUNT

        connection = await asyncpg.connect(dsn)
        try:
            decided = await connection.fetchval("SELECT count(*) FROM outbox_events WHERE topic = 'credit-check-decided'")
            reserved = await connection.fetchval("SELECT coalesce(sum(amount), 0) FROM order_reservations WHERE status = 'open'")
            sweep_holders = await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1::bigint::oid"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                lock_key("creditguard-limits-daily_sweep"),
            )
        finally:
            await connection.close()
        assert decided == ORDERS
        assert reserved == len(approved) * ORDER_AMOUNT
        assert sweep_holders == 1
    finally:
        process.terminate()
        process.wait(timeout=30)
    finished = re.findall(r"Finished server process \[(\d+)\]", log.read_text())
    assert len(set(finished)) == 2, log.read_text()[-2000:]
