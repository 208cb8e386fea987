"""The second baseline for bench/credit_checks.py: the cheapest durable answer this stack can give.

Same request body as a credit check; it stores the order in one INSERT and commits, through the
same async SQLAlchemy engine the services use (shared's create_engine: the one-connection SQLite
setup, asyncpg on PostgreSQL). No reads, no rules, no outbox. A credit check must do at least
this, so its ratio to this endpoint says how much the check itself costs, and this endpoint's
ratio to the trivial one says how much of the trivial endpoint's speed any durable write can keep.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Column, DateTime, Integer, String, Table, insert

from bench.credit_checks_trivial_app import Order
from creditguard_shared.database import create_engine, new_metadata

metadata = new_metadata()
orders = Table(
    "bench_floor_orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_engine(os.environ["FLOOR_DATABASE_URL"])
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    app.state.engine = engine
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
statement = insert(orders)


@app.post("/v1/credit-checks")
async def store(order: Order) -> dict:
    async with app.state.engine.begin() as connection:
        await connection.execute(statement, {"order_id": order.order_id, "buyer_id": order.buyer_id, "amount": order.amount, "created_at": datetime.now(UTC)})
    return {"decision": "approved", "order_id": order.order_id}
