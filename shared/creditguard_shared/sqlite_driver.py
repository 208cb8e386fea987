"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four.

aiosqlite runs each sqlite3 call on its own thread and hands the result back to the event loop.
SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch all,
close), and each hop costs a thread wake-up and an event-loop wake-up: on this 2-core machine a
credit check spent about three quarters of its 12 ms in hops, with the single SQLite
connection held throughout. This cursor does all four in one call on the aiosqlite thread.

``BEGIN IMMEDIATE`` (see database.py) costs no hop of its own either: it travels with the
transaction's first statement, and a transaction that never ran a statement commits or rolls
back without touching the driver thread.

It plugs in through ``create_async_engine(module=...)`` (SQLAlchemy's documented way to give a
dialect another DBAPI module), so the dialect, its SQL and its type handling stay SQLAlchemy's.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"


class _StatementResult:
    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, *, fetch: bool) -> None:
        self.description = cursor.description
        self.rows = cursor.fetchall() if fetch and cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run_on_driver_thread(connection: sqlite3.Connection, operation: str, parameters: Any, *, many: bool, begin_first: bool) -> _StatementResult:
    if begin_first:
        connection.execute(BEGIN_IMMEDIATE)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        return _StatementResult(cursor, fetch=not many)
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute, fetch and close happen in a single driver-thread call."""

    __slots__ = ("_result",)
    _adapt_connection: OneHopConnection

    def __init__(self, adapt_connection: OneHopConnection) -> None:
        # No aiosqlite cursor: the driver thread opens and closes a sqlite3 cursor per statement.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no driver cursor: SQLAlchemy's close() allows for None, its annotation does not
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._result: _StatementResult | None = None

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
        aiosqlite_connection = connection.aiosqlite_connection
        async with connection._execute_mutex:
            begin_first, connection.begin_pending = connection.begin_pending, False
            result: _StatementResult = await aiosqlite_connection._execute(  # type: ignore[no-untyped-call]  # aiosqlite's private helper is unannotated
                _run_on_driver_thread,
                aiosqlite_connection._conn,
                operation,
                parameters,
                many=many,
                begin_first=begin_first,
            )
        self._result = result
        self._rows = collections.deque(result.rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("aiosqlite_connection", "begin_pending")

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)  # type: ignore[arg-type]  # SQLAlchemy's protocol omits aiosqlite's connection
        # The same connection SQLAlchemy keeps, under its own type (SQLAlchemy's attribute has only its protocol's).
        self.aiosqlite_connection = connection
        # BEGIN IMMEDIATE was asked for and not yet sent (it goes with the next statement).
        self.begin_pending = False

    def cursor(self, server_side: bool = False) -> AsyncAdapt_dbapi_cursor:
        return super().cursor(server_side=True) if server_side else OneHopCursor(self)

    def commit(self) -> None:
        if self.begin_pending:
            self.begin_pending = False  # nothing ran: nothing to commit
            return
        super().commit()

    def rollback(self) -> None:
        if self.begin_pending:
            self.begin_pending = False
            return
        super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        # SQLAlchemy made it with aiosqlite.connect(); its attribute is typed as its own protocol.
        return OneHopConnection(self, cast(aiosqlite.Connection, adapted._connection))


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
