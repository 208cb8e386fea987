"""Statements compiled once and sent to the driver itself, on the session's own connection.

Through an ``AsyncSession`` a statement costs 80-180 µs of Python before the driver sees it (the
ORM's execution context, a greenlet switch, the result's wrapping), where SQLite answers an indexed
lookup in a few µs and asyncpg sends a prepared statement in tens. On the hot writes (the credit
check) that overhead, not the database, set the pace. A ``PreparedStatement`` is a SQLAlchemy Core
statement compiled once per dialect by SQLAlchemy (so its SQL and the conversion of every bound and
returned value stay SQLAlchemy's: money as cents on SQLite, dates, casts on PostgreSQL) and run
through the DB-API connection the session already holds, inside the session's transaction:

- SQLite: ``EventLoopConnection.run`` (sqlite_driver.py) on the event loop, with the same
  ``BEGIN IMMEDIATE`` and lock waiting as every other statement;
- PostgreSQL: the asyncpg connection's prepared-statement cache (the one SQLAlchemy's cursor uses),
  after the transaction SQLAlchemy would have begun.

Pending ORM changes are flushed first, as autoflush would, so a statement sees what the unit of
work changed before it. Driver errors come back as SQLAlchemy's exceptions (``IntegrityError`` …).
Only statements without expanding (``IN``-list) parameters can be prepared.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, cast

from sqlalchemy import Table, bindparam, exc, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import FromClause

from creditguard_shared.held import Held
from creditguard_shared.sqlite_driver import EventLoopConnection

_ROWCOUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # The bound parameters' names, in the order the driver takes them.
    names: tuple[str, ...]
    # (position, converter) of the parameters that have a converter: most (text, integers) have none.
    binders: tuple[tuple[int, Callable[[Any], Any]], ...]
    # Values the statement carries itself (a LIMIT's), used where the caller gives none.
    defaults: Mapping[str, Any]
    # The returned columns' types: their converters depend on what the driver says it returns.
    result_types: tuple[Any, ...]


@dataclass(frozen=True)
class _Answer:
    rows: Sequence[Sequence[Any]]
    # The driver's type code per returned column (None where the driver gives none: SQLite).
    type_codes: tuple[Any, ...]
    rowcount: int


class _Driver(Protocol):
    async def execute(self, sql: str, arguments: Sequence[Any]) -> _Answer: ...

    async def execute_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> None: ...


class _SQLiteDriver:
    __slots__ = ("_connection",)

    def __init__(self, connection: EventLoopConnection) -> None:
        self._connection = connection

    async def execute(self, sql: str, arguments: Sequence[Any]) -> _Answer:
        result = await self._connection.run(sql, arguments, many=False)
        description = result.description or ()
        return _Answer(rows=result.rows, type_codes=(None,) * len(description), rowcount=result.rowcount)

    async def execute_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> None:
        await self._connection.run(sql, arguments, many=True)


class _AsyncpgDriver:
    """Through SQLAlchemy's asyncpg adapter: its transaction, its lock and its prepared statements,
    so the session and these statements share one transaction and one statement cache. A statement
    the server says is stale (after DDL) invalidates the dialect's schema cache, as SQLAlchemy's
    own execution does, so the next use prepares it again."""

    __slots__ = ("_connection", "_dialect")

    def __init__(self, connection: Any, dialect: Any) -> None:
        self._connection = connection
        self._dialect = dialect

    async def _started(self) -> Any:
        adapted = self._connection
        if adapted._transaction is None:
            await adapted._start_transaction()
        return adapted

    def _failed(self, error: Exception) -> NoReturn:
        try:
            self._connection._handle_exception(error)
        except (self._dialect.dbapi.InvalidCachedStatementError, self._dialect.dbapi.InternalServerError):
            self._dialect._invalidate_schema_cache()
            raise
        raise AssertionError("unreachable: _handle_exception always raises")

    async def execute(self, sql: str, arguments: Sequence[Any]) -> _Answer:
        async with self._connection._execute_mutex:
            try:
                adapted = await self._started()
                prepared, attributes = await adapted._prepare(sql, self._dialect._invalidate_schema_cache_asof)
                rows = await prepared.fetch(*arguments)
                status = _ROWCOUNT.match(prepared.get_statusmsg() or "")
            except Exception as error:  # noqa: BLE001 - raised again as its DB-API class
                self._failed(error)
        return _Answer(rows=rows, type_codes=tuple(attribute.type.oid for attribute in attributes or ()), rowcount=int(status.group(1)) if status else -1)

    async def execute_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> None:
        async with self._connection._execute_mutex:
            try:
                adapted = await self._started()
                await adapted._check_type_cache_invalidation(self._dialect._invalidate_schema_cache_asof)
                await adapted._connection.executemany(sql, arguments)
            except Exception as error:  # noqa: BLE001 - raised again as its DB-API class
                self._failed(error)


@dataclass(frozen=True)
class _Connection:
    driver: _Driver
    dialect: Dialect
    # The session transaction it belongs to.
    transaction: object


# The driver connection of the session's current transaction; the unit of work drops it when the
# transaction ends, and one that belongs to an earlier transaction (a session committed directly)
# is not used.
_CONNECTION: Held[_Connection] = Held("prepared.connection")


async def _connection(session: AsyncSession) -> _Connection:
    if not session.sync_session._is_clean():
        await session.flush()
    held = _CONNECTION.peek(session)
    if held is None or held.transaction is not session.sync_session.get_transaction():
        connection = await session.connection()  # begins the session's transaction if it has not
        adapted = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]  # an open AsyncConnection has its sync one
        driver: _Driver = _SQLiteDriver(adapted) if isinstance(adapted, EventLoopConnection) else _AsyncpgDriver(adapted, connection.dialect)
        held = _CONNECTION.put(session, _Connection(driver=driver, dialect=connection.dialect, transaction=session.sync_session.get_transaction()))
    return held


class PreparedStatement:
    """A Core statement with named bind parameters, compiled once per dialect."""

    __slots__ = ("_by_dialect", "_readers", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        # The returned columns' converters by dialect and the driver's type codes (SQLAlchemy
        # looks each up per call; a credit check's reads would spend more on that than on the rows).
        self._readers: dict[tuple[str, tuple[Any, ...]], tuple[Callable[[Any], Any] | None, ...] | None] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            assert isinstance(self.statement, ClauseElement)
            sql = self.statement.compile(dialect=dialect)
            assert isinstance(sql, SQLCompiler)
            if sql.positiontup is None or sql.literal_execute_params or sql.post_compile_params:
                raise ValueError("only statements with plain positional parameters can be prepared")
            names = tuple(sql.positiontup)
            compiled = _Compiled(
                sql=sql.string,
                names=names,
                binders=tuple(
                    (position, binder)
                    for position, binder in enumerate(sql.binds[name].type._cached_bind_processor(dialect) for name in names)
                    if binder is not None
                ),
                defaults={name: sql.binds[name].value for name in names if sql.binds[name].value is not None},
                result_types=tuple(column.type for column in getattr(self.statement, "exported_columns", ())),
            )
            self._by_dialect[dialect.name] = compiled
        return compiled

    def _arguments(self, compiled: _Compiled, parameters: Mapping[str, Any], *, last_bound: dict[int, tuple[Any, Any]] | None = None) -> list[Any]:
        """``last_bound``: for the parameter sets of one ``run_many``, each position's last value
        and what it bound to; the same object again (a batch's one timestamp, its currency) is
        not converted again. Values are not changed while a statement's arguments are built."""
        if compiled.defaults:
            parameters = {**compiled.defaults, **parameters}
        values = [parameters[name] for name in compiled.names]
        for position, binder in compiled.binders:
            if (value := values[position]) is not None:
                if last_bound is None:
                    values[position] = binder(value)
                    continue
                last = last_bound.get(position)
                if last is not None and last[0] is value:
                    values[position] = last[1]
                else:
                    values[position] = bound = binder(value)
                    last_bound[position] = (value, bound)
        return values

    async def _execute(self, session: AsyncSession, parameters: Mapping[str, Any]) -> tuple[_Answer, Dialect]:
        held = await _connection(session)
        compiled = self._compiled(held.dialect)
        try:
            return await held.driver.execute(compiled.sql, self._arguments(compiled, parameters)), held.dialect
        except Exception as error:
            raise _translated(error, compiled.sql, parameters, held.dialect) from error

    async def rows(self, session: AsyncSession, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows, each value converted as SQLAlchemy would."""
        answer, dialect = await self._execute(session, parameters)
        if not answer.rows:
            return []
        key = (dialect.name, answer.type_codes)
        if key not in self._readers:
            result_types = self._compiled(dialect).result_types
            found = tuple(type_._cached_result_processor(dialect, code) for type_, code in zip(result_types, answer.type_codes, strict=True))
            self._readers[key] = found if any(found) else None
        readers = self._readers[key]
        if readers is None:
            return [tuple(row) for row in answer.rows]
        return [tuple(value if read is None or value is None else read(value) for read, value in zip(readers, row, strict=True)) for row in answer.rows]

    async def run(self, session: AsyncSession, parameters: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; answers how many rows it changed."""
        answer, _ = await self._execute(session, parameters)
        return answer.rowcount

    async def run_many(self, session: AsyncSession, parameter_sets: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per parameter set, in one driver call."""
        if not parameter_sets:
            return
        held = await _connection(session)
        compiled = self._compiled(held.dialect)
        last_bound: dict[int, tuple[Any, Any]] = {}
        try:
            arguments = [self._arguments(compiled, parameters, last_bound=last_bound) for parameters in parameter_sets]
            await held.driver.execute_many(compiled.sql, arguments)
        except Exception as error:
            raise _translated(error, compiled.sql, parameter_sets, held.dialect) from error


@functools.cache
def _insert_of(table: Table, columns: tuple[str, ...]) -> PreparedStatement:
    """An INSERT of these columns of ``table``, each bound by its key; prepared once per column set."""
    return PreparedStatement(insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns}))


def insert_of_every_column(table: FromClause) -> PreparedStatement:
    """An INSERT of a whole row of ``table`` (a mapped class's ``__table__``), each column bound by its key."""
    return _insert_of(cast(Table, table), tuple(column.key for column in table.columns))


# Beyond this many rows the combined statement is not worth a cached statement of its own shape.
_MOST_ROWS_COMBINED = 8


@functools.lru_cache(maxsize=64)
def _inserts_in_one_statement(leading: tuple[Table, ...], table: Table, columns: tuple[str, ...], row_count: int) -> PreparedStatement:
    """``row_count`` rows into ``table`` as one multi-row INSERT, and a whole row into each
    ``leading`` table as a data-modifying CTE of it (PostgreSQL only)."""
    statement = insert(table).values([{name: bindparam(f"row{n}_{name}", type_=table.c[name].type) for name in columns} for n in range(row_count)])
    for position, leading_table in enumerate(leading):
        row = {column.key: bindparam(f"leading{position}_{column.key}", type_=column.type) for column in leading_table.columns}
        statement = statement.add_cte(insert(leading_table).values(row).cte(f"leading{position}"))
    return PreparedStatement(statement)


async def insert_together(
    session: AsyncSession,
    *,
    leading: Sequence[tuple[Table, Mapping[str, Any]]],
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert each ``leading`` row (a value for every column of its table), then ``rows`` (their
    ``columns``) into ``table``, in as few round trips as the database allows: on PostgreSQL one
    statement for a few rows, where each INSERT would cost a round trip of its own; on SQLite,
    where a statement costs no round trip, one each (the ``rows`` in one driver call). ``rows`` go
    in in their order, so a serial key numbers them so."""
    held = await _connection(session)
    if leading and rows and held.dialect.name == "postgresql" and len(rows) <= _MOST_ROWS_COMBINED:
        statement = _inserts_in_one_statement(tuple(leading_table for leading_table, _ in leading), table, columns, len(rows))
        parameters = {f"row{n}_{name}": row[name] for n, row in enumerate(rows) for name in columns}
        for position, (_, values) in enumerate(leading):
            parameters.update({f"leading{position}_{key}": value for key, value in values.items()})
        await statement.run(session, parameters)
        return
    for leading_table, values in leading:
        await insert_of_every_column(leading_table).run(session, values)
    # One row as a plain execute: the executemany path costs more for a single parameter set.
    if len(rows) == 1:
        await _insert_of(table, columns).run(session, rows[0])
    elif rows:
        await _insert_of(table, columns).run_many(session, rows)


def _translated(error: Exception, sql: str, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]], dialect: Dialect) -> BaseException:
    if isinstance(error, exc.SQLAlchemyError):
        return error
    return exc.DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect)
