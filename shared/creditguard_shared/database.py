"""Async engines for SQLite (default) and PostgreSQL (production), chosen by URL alone."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, Numeric, event, exc
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from creditguard_shared.sqlite_driver import BEGIN_IMMEDIATE, EventLoopConnection, event_loop_dbapi

# Explicit names so Alembic migrations are stable on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset, so it stores UTC and gets it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Money(TypeDecorator[Decimal]):
    """Money, exact on every database: NUMERIC(18, 2) on PostgreSQL; on SQLite, whose NUMERIC
    would hold a binary float (0.1 + 0.2 != 0.3), whole cents, which SQLite's NUMERIC affinity
    stores as an exact 64-bit INTEGER and sums exactly (failing loudly on overflow, never rounding).

    The column is declared NUMERIC(18, 2) on both, so the schema and the migrations stay the same
    and only the stored representation differs. Sums, MIN/MAX, CASE and COALESCE over a money
    column keep this type, so their results come back as Decimals too; a value compared with or
    bound to a money column is converted the same way. Raw SQL must not mix a money column with a
    literal amount in units, nor multiply one by a float.
    """

    impl = Numeric(18, 2)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Decimal | None], Any] | None:
        return _to_cents if dialect.name == "sqlite" else super().bind_processor(dialect)

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str] | None:
        if dialect.name != "sqlite":
            return super().literal_processor(dialect)
        return lambda value: str(_to_cents(value))

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Decimal | None] | None:
        # Not the SQLite NUMERIC processor: it formats through a float, inexact beyond 2**53 cents.
        return _from_cents if dialect.name == "sqlite" else super().result_processor(dialect, coltype)


_CENT = Decimal("0.01")


def _to_cents(value: Decimal | int | str | None) -> int | None:
    if value is None:
        return None
    # Half away from zero to the cent, as PostgreSQL's NUMERIC(18, 2) rounds; str() so a float
    # that slipped through counts as what it prints, not its binary expansion.
    return int((Decimal(str(value)) * 100).to_integral_value(ROUND_HALF_UP))


def _from_cents(value: int | float | str | None) -> Decimal | None:
    if value is None:
        return None
    if type(value) is int:
        # The common case, and exact: whole cents scaled to units keep two decimal places.
        return Decimal(value).scaleb(-2)
    cents = Decimal(value)
    if cents != cents.to_integral_value():
        # A fraction of a cent means a REAL left by an unmigrated database or arithmetic with a
        # float: refuse it rather than answer an amount that is silently off.
        raise ValueError(f"money column holds {value!r}, not whole cents")
    return cents.scaleb(-2).quantize(_CENT)


def normalise_database_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the async drivers."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_database_url(url)).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = normalise_database_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Created empty (a valid SQLite database) and owner-only; SQLite gives its -wal and
            # -shm files the database file's permissions.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        # One connection: SQLite has a single writer anyway, and queueing for the pool is fair
        # and sleep-free, where competing connections back off inside SQLite's busy handler
        # (tail latencies of seconds under concurrent credit checks).
        engine = create_async_engine(
            url,
            echo=echo,
            module=event_loop_dbapi(),
            # Statements run on the event loop with no busy timeout (sqlite_driver.py waits for
            # another process's write lock on the driver thread instead).
            connect_args={"timeout": 0, "check_same_thread": False},
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        _make_sqlite_transactions_serialisable(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_connections_idle_for(engine, seconds=PING_AFTER_IDLE_SECONDS)
    return engine


# A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_connections_idle_for(engine: AsyncEngine, *, seconds: float) -> None:
    """SQLAlchemy's pool_pre_ping pings every checkout, and on asyncpg a ping is three round trips
    (BEGIN, a statement, ROLLBACK): more than a credit check's own reads. A connection in steady
    use has just proved itself, so only one that sat idle for ``seconds`` (long enough for a
    server restart or a dropped link to go unnoticed) is pinged; a dead one is replaced before
    use. A connection that breaks while in use fails its statement, and SQLAlchemy then discards
    it and every other connection the pool held before the failure."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards the connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(f"connection idle for {time.monotonic() - idle_since:.0f} s did not answer a ping") from error


def _make_sqlite_transactions_serialisable(engine: AsyncEngine) -> None:
    """SQLite's deferred transactions upgrade to a write lock mid-transaction and then fail with
    'database is locked'; BEGIN IMMEDIATE takes the write lock up front so concurrent writers queue
    (busy_timeout) instead, which is what read-check-write rules such as credit checks need."""

    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if isinstance(dbapi_connection, EventLoopConnection):
            # What the statement below would do, without a statement's execution context: the
            # BEGIN IMMEDIATE is sent with the transaction's first statement (sqlite_driver.py).
            dbapi_connection.begin_pending = True
        else:
            connection.exec_driver_sql(BEGIN_IMMEDIATE)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Autoflush on: a query in a unit of work must see the changes made earlier in it.
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any error."""
    async with session_factory() as session, session.begin():
        yield session
