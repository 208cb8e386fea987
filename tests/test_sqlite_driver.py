"""The SQLite cursor that runs statements on the event loop (shared/creditguard_shared/sqlite_driver.py)
behaves like the DBAPI cursor it replaces: results, row counts, RETURNING, executemany, errors and
rollback; and it waits for another process's write lock off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, bindparam, delete, exc, func, insert, select, text, update

from creditguard_shared.database import create_engine, new_metadata
from creditguard_shared.sqlite_driver import EventLoopCursor

metadata = new_metadata()
items = Table("items", metadata, Column("id", Integer, primary_key=True, autoincrement=True), Column("name", String(20), unique=True, nullable=False))


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_the_engine_runs_statements_on_the_event_loop(engine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), EventLoopCursor)
        raw.dbapi_connection.sqlite_connection.create_function("thread_id", 0, threading.get_ident)
        assert (await connection.execute(text("SELECT thread_id()"))).scalar_one() == threading.get_ident()


async def test_rows_counts_returning_and_executemany(engine) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(insert(items).returning(items.c.id, items.c.name), [{"name": "a"}])
        assert [tuple(row) for row in result] == [(1, "a")]
        result = await connection.execute(insert(items), [{"name": "b"}, {"name": "c"}, {"name": "d"}])
        assert result.rowcount == 3
        assert (await connection.execute(insert(items).values(name="e"))).inserted_primary_key == (5,)
        assert (await connection.execute(update(items).where(items.c.id > 3).values(name=func.upper(items.c.name)))).rowcount == 2
        assert (await connection.execute(delete(items).where(items.c.name == "b"))).rowcount == 1
        renames = update(items).where(items.c.id == bindparam("item_id")).values(name=bindparam("new_name"))  # executemany
        assert (await connection.execute(renames, [{"item_id": 3, "new_name": "c"}, {"item_id": 4, "new_name": "D"}])).rowcount == 2
        assert (await connection.execute(select(items.c.name).order_by(items.c.id))).scalars().all() == ["a", "c", "D", "E"]
        assert (await connection.execute(select(items.c.name).where(items.c.id == 99))).first() is None
        assert (await connection.execute(text("SELECT count(*) FROM items"))).scalar_one() == 4


async def test_errors_keep_their_dbapi_class_and_roll_back(engine) -> None:
    with pytest.raises(exc.IntegrityError):  # noqa: PT012 - the transaction as a whole is what fails
        async with engine.begin() as connection:
            await connection.execute(insert(items).values(name="x"))
            await connection.execute(insert(items).values(name="x"))
    with pytest.raises(exc.OperationalError):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(items))).scalar_one() == 0


async def test_begin_immediate_takes_the_write_lock_with_the_first_statement(engine, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
    try:
        async with engine.begin() as connection:
            other.execute("BEGIN IMMEDIATE")  # nothing ran yet: BEGIN is still waiting for a statement
            other.execute("ROLLBACK")
            await connection.execute(select(items.c.id))  # a read, but the transaction holds the write lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await connection.execute(insert(items).values(name="kept"))
        async with engine.begin():
            pass  # a transaction without statements commits without the driver
        with pytest.raises(RuntimeError):  # noqa: PT012 - the transaction as a whole is what fails
            async with engine.begin() as connection:
                await connection.execute(insert(items).values(name="dropped"))
                raise RuntimeError("roll back")
        assert [row[0] for row in other.execute("SELECT name FROM items")] == ["kept"]
    finally:
        other.close()


async def test_waiting_for_another_process_write_lock_leaves_the_event_loop_free(engine, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(items).values(name="after the lock"))

    ticker = asyncio.create_task(tick())
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO items (name) VALUES ('holder')")
        writer = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writer.done()  # waiting for the lock (with no busy timeout it would have failed)
        waited = ticks
        assert waited >= 10  # and the event loop kept running meanwhile
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 10)
    finally:
        ticker.cancel()
        other.close()
    async with engine.connect() as connection:
        assert (await connection.execute(select(items.c.name).order_by(items.c.id))).scalars().all() == ["holder", "after the lock"]
