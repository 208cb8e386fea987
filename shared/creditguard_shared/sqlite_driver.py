"""SQLAlchemy's aiosqlite adapter, with statements run on the event loop instead of a thread.

aiosqlite runs each sqlite3 call on its own thread and hands the result back to the event loop.
SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch all,
close), and each hop costs a thread wake-up and an event-loop wake-up: a credit check spent
about three quarters of its time in hops, with the single SQLite connection held throughout.

A statement on a local SQLite file in WAL mode takes microseconds to a few milliseconds of
CPU and never waits, except for the write lock: so this adapter runs every statement, and the
commit and rollback, directly on the event loop, and goes to the driver thread only to wait.
The connection's busy timeout is zero; a ``BEGIN IMMEDIATE`` (or a single statement) that finds
the write lock taken by another process answers SQLITE_BUSY at once and is sent again on the
driver thread with ``BUSY_TIMEOUT_MS``, where waiting blocks nobody else. A statement that fails
with SQLITE_BUSY had no effect, so sending it again is safe. Inside a ``BEGIN IMMEDIATE``
transaction WAL mode never answers SQLITE_BUSY (the lock is held).

``BEGIN IMMEDIATE`` (see database.py) travels with the transaction's first statement, and a
transaction that never ran a statement commits or rolls back without touching the database.

It plugs in through ``create_async_engine(module=...)`` (SQLAlchemy's documented way to give a
dialect another DBAPI module), so the dialect, its SQL and its type handling stay SQLAlchemy's.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

T = TypeVar("T")

BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
# How long a statement waits for another process's write lock (on the driver thread).
BUSY_TIMEOUT_MS = 30_000


class StatementResult:
    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, *, fetch: bool) -> None:
        self.description = cursor.description
        self.rows = cursor.fetchall() if fetch and cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _is_busy(error: Exception) -> bool:
    return isinstance(error, sqlite3.OperationalError) and getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _run_statement(connection: sqlite3.Connection, operation: str, parameters: Any, *, many: bool) -> StatementResult:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        return StatementResult(cursor, fetch=not many)
    finally:
        cursor.close()


def _waiting_for_the_lock(connection: sqlite3.Connection, run: Callable[[], T]) -> T:
    """``run`` with the busy timeout on (on the driver thread): it waits for another process's
    write lock instead of failing at once."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return run()
    finally:
        connection.execute("PRAGMA busy_timeout=0")


class EventLoopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute, fetch and close happen in one call on the event loop."""

    __slots__ = ("_result",)
    _adapt_connection: EventLoopConnection

    def __init__(self, adapt_connection: EventLoopConnection) -> None:
        # No aiosqlite cursor: each statement opens and closes a sqlite3 cursor of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no driver cursor: SQLAlchemy's close() allows for None, its annotation does not
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._result: StatementResult | None = None

    @property
    def description(self) -> Any:
        return self._result.description if self._result else None

    @property
    def rowcount(self) -> int:
        return self._result.rowcount if self._result else -1

    @property
    def lastrowid(self) -> int:
        return self._result.lastrowid if self._result else 0  # type: ignore[return-value]  # sqlite3 leaves it None after executemany(); SQLAlchemy's cursor protocol says int

    async def _async_soft_close(self) -> None:
        return None

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:  # noqa: BLE001 - _handle_exception raises it again as its DB-API class
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:  # noqa: BLE001 - _handle_exception raises it again as its DB-API class
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._adapt_connection
        if operation == BEGIN_IMMEDIATE and not many:
            connection.begin_pending = True
            self._result, self._rows = None, collections.deque()
            return
        self._result = await connection.run(operation, parameters, many=many)
        self._rows = collections.deque(self._result.rows)


class EventLoopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("aiosqlite_connection", "begin_pending", "sqlite_connection")

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)  # type: ignore[arg-type]  # SQLAlchemy's protocol omits aiosqlite's connection
        # The same connection SQLAlchemy keeps, under its own type (SQLAlchemy's attribute has only its protocol's).
        self.aiosqlite_connection = connection
        # The sqlite3 connection itself, called on the event loop (opened with check_same_thread off).
        self.sqlite_connection: sqlite3.Connection = connection._conn
        # BEGIN IMMEDIATE was asked for and not yet sent (it goes with the next statement).
        self.begin_pending = False

    async def on_driver_thread(self, run: Callable[[], T]) -> T:
        async with self._execute_mutex:
            return cast(T, await self.aiosqlite_connection._execute(run))  # type: ignore[no-untyped-call]  # aiosqlite's private helper is unannotated

    async def run(self, operation: str, parameters: Any, *, many: bool) -> StatementResult:
        """One statement (``many``: once per parameter set) on the event loop, sending a pending
        ``BEGIN IMMEDIATE`` first; a wait for another process's write lock goes to the driver
        thread. Raises sqlite3's own errors."""
        sqlite_connection = self.sqlite_connection
        if self.begin_pending:
            self.begin_pending = False
            try:
                sqlite_connection.execute(BEGIN_IMMEDIATE)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                await self.on_driver_thread(lambda: _waiting_for_the_lock(sqlite_connection, lambda: sqlite_connection.execute(BEGIN_IMMEDIATE)))
        try:
            return _run_statement(sqlite_connection, operation, parameters, many=many)
        except sqlite3.OperationalError as error:
            # A half-done executemany() cannot be sent again; under BEGIN IMMEDIATE it never waits.
            if many or not _is_busy(error):
                raise
            return await self.on_driver_thread(
                lambda: _waiting_for_the_lock(sqlite_connection, lambda: _run_statement(sqlite_connection, operation, parameters, many=False))
            )

    def cursor(self, server_side: bool = False) -> AsyncAdapt_dbapi_cursor:
        return super().cursor(server_side=True) if server_side else EventLoopCursor(self)

    def commit(self) -> None:
        if self.begin_pending:
            self.begin_pending = False  # nothing ran: nothing to commit
            return
        try:
            self.sqlite_connection.commit()
        except Exception as error:  # noqa: BLE001 - _handle_exception raises it again as its DB-API class
            self._handle_exception(error)

    def rollback(self) -> None:
        if self.begin_pending:
            self.begin_pending = False
            return
        try:
            self.sqlite_connection.rollback()
        except Exception as error:  # noqa: BLE001 - _handle_exception raises it again as its DB-API class
            self._handle_exception(error)


class EventLoopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> EventLoopConnection:
        adapted = super().connect(*arg, **kw)
        # SQLAlchemy made it with aiosqlite.connect(); its attribute is typed as its own protocol.
        return EventLoopConnection(self, cast(aiosqlite.Connection, adapted._connection))


def event_loop_dbapi() -> EventLoopDBAPI:
    return EventLoopDBAPI(aiosqlite, sqlite3)
