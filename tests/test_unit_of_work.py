"""The unit of work (shared/creditguard_shared/unit_of_work.py): before-commit work asked for many
times under one key runs once, after every change, inside the same transaction; a batch of
consumed events is claimed in one statement, each id once, and only with its transaction; what it
holds under a typed key lives until its transaction ends; effects after commit run only when it commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, func, insert, select

from creditguard_shared.database import create_engine, create_session_factory, new_metadata
from creditguard_shared.held import Held
from creditguard_shared.messaging_tables import define_messaging_tables
from creditguard_shared.unit_of_work import UnitOfWork

metadata = new_metadata()
tables = define_messaging_tables(metadata)
entries = Table("entries", metadata, Column("id", Integer, primary_key=True), Column("kind", String(20), nullable=False))


@pytest.fixture
async def new_uow(tmp_path: Path):
    async for factory in _unit_of_work_factory(f"sqlite:///{tmp_path / 'uow.db'}"):
        yield factory


async def _unit_of_work_factory(url: str):
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = create_session_factory(engine)
    yield lambda: UnitOfWork(session_factory=sessions, tables=tables, source="test")
    await engine.dispose()


async def _kinds(new_uow) -> list[str]:
    async with new_uow() as uow:
        return list((await uow.session.execute(select(entries.c.kind).order_by(entries.c.id))).scalars())


async def test_work_asked_for_under_one_key_runs_once_after_every_change(new_uow) -> None:
    seen_by_summary: list[int] = []

    async def summarise(uow: UnitOfWork) -> None:
        count = (await uow.session.execute(select(func.count()).select_from(entries))).scalar_one()
        seen_by_summary.append(count)
        await uow.session.execute(insert(entries).values(kind="summary"))

    async with new_uow() as uow:
        for _ in range(3):
            await uow.session.execute(insert(entries).values(kind="change"))
            uow.before_commit("summary", lambda: summarise(uow))
        await uow.commit()

    assert seen_by_summary == [3]
    assert await _kinds(new_uow) == ["change", "change", "change", "summary"]


async def test_work_may_ask_for_more_work_and_keys_are_separate(new_uow) -> None:
    async def second(uow: UnitOfWork) -> None:
        await uow.session.execute(insert(entries).values(kind="second"))

    async def first(uow: UnitOfWork) -> None:
        await uow.session.execute(insert(entries).values(kind="first"))
        uow.before_commit("second", lambda: second(uow))

    async def other(uow: UnitOfWork) -> None:
        await uow.session.execute(insert(entries).values(kind="other"))

    async with new_uow() as uow:
        uow.before_commit("first", lambda: first(uow))
        uow.before_commit("other", lambda: other(uow))
        await uow.commit()

    assert await _kinds(new_uow) == ["first", "other", "second"]


async def test_rolled_back_or_failing_work_leaves_nothing(new_uow) -> None:
    ran: list[str] = []

    async def record(uow: UnitOfWork, kind: str) -> None:
        ran.append(kind)
        await uow.session.execute(insert(entries).values(kind=kind))

    async with new_uow() as uow:
        await uow.session.execute(insert(entries).values(kind="dropped"))
        uow.before_commit("k", lambda: record(uow, "forgotten"))
        await uow.rollback()
        await uow.commit()  # nothing left to do: the rollback forgot the work too
    assert ran == [] and await _kinds(new_uow) == []

    async def fail() -> None:
        raise RuntimeError("check failed")

    with pytest.raises(RuntimeError):  # noqa: PT012 - the unit of work as a whole is what fails
        async with new_uow() as uow:
            await uow.session.execute(insert(entries).values(kind="change"))
            uow.before_commit("k", fail)
            await uow.commit()
    assert await _kinds(new_uow) == []


async def test_effects_after_commit_run_only_for_what_the_database_kept(new_uow) -> None:
    # Metrics count through on_commit: a deadlocked attempt that a consumer retries must not count twice.
    counted: list[str] = []
    async with new_uow() as uow:
        await uow.session.execute(insert(entries).values(kind="kept"))
        uow.on_commit(lambda: counted.append("kept"))
        assert counted == []  # not before the commit
        await uow.commit()
        assert counted == ["kept"]
        await uow.commit()  # a second commit of the same unit of work runs nothing again
    assert counted == ["kept"]

    async with new_uow() as uow:
        uow.on_commit(lambda: counted.append("rolled back"))
        await uow.rollback()
        await uow.commit()
    async with new_uow() as uow:
        uow.on_commit(lambda: counted.append("never committed"))

    async def fail() -> None:
        raise RuntimeError("check failed")

    with pytest.raises(RuntimeError):  # noqa: PT012 - the unit of work as a whole is what fails
        async with new_uow() as uow:
            uow.on_commit(lambda: counted.append("failed commit"))
            uow.before_commit("k", fail)
            await uow.commit()
    assert counted == ["kept"] and await _kinds(new_uow) == ["kept"]


async def test_a_batch_of_events_is_claimed_once_each_on_both_databases(databases) -> None:
    async for new_uow in _unit_of_work_factory(await databases.create("uow")):
        async with new_uow() as uow:
            assert await uow.claim_events(consumer="c", events=[("e1", "t"), ("e2", "t")]) == {"e1", "e2"}
            await uow.commit()
        async with new_uow() as uow:
            # e1 was processed; e3 arrives twice in the batch (published twice); another consumer's ids are its own.
            assert await uow.claim_events(consumer="c", events=[("e1", "t"), ("e3", "t"), ("e3", "t")]) == {"e3"}
            assert await uow.claim_events(consumer="other", events=[("e1", "t")]) == {"e1"}
            assert await uow.claim_event(consumer="c", event_id="e3", topic="t") is False
            await uow.rollback()
        async with new_uow() as uow:
            # The rollback took the claims with it.
            assert await uow.claim_events(consumer="c", events=[("e3", "t")]) == {"e3"}
            assert await uow.claim_events(consumer="c", events=[]) == set()


READ_AHEAD: Held[dict[str, int]] = Held("tests.read_ahead", dict)
TABLE_READ_ONCE: Held[list[str]] = Held("tests.table_read_once")


async def test_what_a_unit_of_work_holds_is_typed_and_dropped_when_its_transaction_ends(new_uow) -> None:
    async with new_uow() as uow:
        assert READ_AHEAD.peek(uow.session) is None and not READ_AHEAD.held(uow.session)
        READ_AHEAD.get(uow.session)["B-1"] = 1  # made empty by the factory, then filled
        assert READ_AHEAD.get(uow.session) == {"B-1": 1} and READ_AHEAD.held(uow.session)
        TABLE_READ_ONCE.put(uow.session, ["a"])
        with pytest.raises(KeyError, match=r"tests\.read_ahead2"):
            Held[int]("tests.read_ahead2").get(uow.session)  # no factory: nothing to make
        # Keys are objects, not names: another key of the same name holds nothing.
        assert Held[dict[str, int]]("tests.read_ahead").peek(uow.session) is None
        await uow.commit()
        # What was read in a committed transaction is not trusted in the next one.
        assert READ_AHEAD.peek(uow.session) is None and TABLE_READ_ONCE.peek(uow.session) is None
        assert uow.session.info == {}

        READ_AHEAD.get(uow.session)["B-2"] = 2
        await uow.rollback()
        assert READ_AHEAD.peek(uow.session) is None

        TABLE_READ_ONCE.put(uow.session, ["b"])
        assert TABLE_READ_ONCE.forget(uow.session) == ["b"] and TABLE_READ_ONCE.forget(uow.session) is None
        READ_AHEAD.get(uow.session)["B-3"] = 3
        session = uow.session
    # Leaving the unit of work (without commit) drops it too.
    assert READ_AHEAD.peek(session) is None
