"""Prepared statements sent to the driver (shared/creditguard_shared/prepared.py), on SQLite and
PostgreSQL: values converted as SQLAlchemy converts them (money exact, dates, booleans), inside the
unit of work's own transaction (they see its pending ORM changes and vanish with its rollback),
driver errors as SQLAlchemy's exceptions, the statement's own LIMIT, and executemany."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from sqlalchemy import Boolean, Date, Integer, String, bindparam, exc, func, insert, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from creditguard_shared.database import Money, create_engine, create_session_factory, new_metadata
from creditguard_shared.messaging_tables import define_messaging_tables
from creditguard_shared.prepared import PreparedStatement
from creditguard_shared.unit_of_work import UnitOfWork


class Base(DeclarativeBase):
    metadata = new_metadata()


class Entry(Base):
    __tablename__ = "prepared_entries"

    entry_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    due_on: Mapped[date] = mapped_column(Date)
    settled: Mapped[bool] = mapped_column(Boolean)
    rank: Mapped[int] = mapped_column(Integer)


tables = define_messaging_tables(Base.metadata)

_INSERT = PreparedStatement(insert(Entry).values({column.key: bindparam(column.key, type_=column.type) for column in Entry.__table__.columns}))
_BY_DUE = PreparedStatement(
    select(Entry.entry_id, Entry.amount, Entry.due_on, Entry.settled).where(Entry.due_on <= bindparam("due_by", type_=Date)).order_by(Entry.rank).limit(2)
)
_TOTAL = PreparedStatement(select(func.coalesce(func.sum(Entry.amount), 0), func.count()).where(Entry.settled.is_(False)))
_SETTLE = PreparedStatement(update(Entry).where(Entry.amount >= bindparam("at_least", type_=Money())).values(settled=True))


@pytest.fixture
async def database_url(databases) -> str:
    return await databases.create("prepared")


@pytest.fixture
async def new_uow(database_url: str):
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = create_session_factory(engine)
    yield lambda: UnitOfWork(session_factory=sessions, tables=tables, source="test")
    await engine.dispose()


def _entry(entry_id: str, amount: str, due_on: date, rank: int) -> dict[str, object]:
    return {"entry_id": entry_id, "amount": Decimal(amount), "due_on": due_on, "settled": False, "rank": rank}


async def test_values_go_in_and_come_back_as_sqlalchemy_converts_them(new_uow) -> None:
    async with new_uow() as uow:
        await _INSERT.run_many(uow.session, [_entry("a", "0.10", date(2026, 1, 31), 3), _entry("b", "0.20", date(2026, 2, 28), 1)])
        await _INSERT.run(uow.session, _entry("c", "123456789012345.67", date(2026, 3, 31), 2))
        await uow.commit()
    async with new_uow() as uow:
        # The statement's own LIMIT 2 applies; rank orders.
        assert await _BY_DUE.rows(uow.session, {"due_by": date(2026, 12, 31)}) == [
            ("b", Decimal("0.20"), date(2026, 2, 28), False),
            ("c", Decimal("123456789012345.67"), date(2026, 3, 31), False),
        ]
        total, count = (await _TOTAL.rows(uow.session, {}))[0]
        # Exact: 0.1 + 0.2 is 0.3, and the 15-digit amount keeps its cents.
        assert (Decimal(total), count) == (Decimal("123456789012345.97"), 3)
        assert await _SETTLE.run(uow.session, {"at_least": Decimal("0.15")}) == 2
        assert await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 31)}) == [("a", Decimal("0.10"), date(2026, 1, 31), False)]


async def test_statements_run_in_the_unit_of_works_transaction(new_uow) -> None:
    async with new_uow() as uow:
        # A pending ORM change is flushed first, as autoflush would: the statement sees it.
        uow.session.add(Entry(entry_id="orm", amount=Decimal("5.00"), due_on=date(2026, 1, 1), settled=False, rank=1))
        assert await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)}) == [("orm", Decimal("5.00"), date(2026, 1, 1), False)]
        await _INSERT.run(uow.session, _entry("raw", "1.00", date(2026, 1, 1), 2))
        # The session sees the driver's insert: one transaction, one connection.
        assert (await uow.session.execute(select(func.count()).select_from(Entry))).scalar_one() == 2
        await uow.rollback()
    async with new_uow() as uow:
        assert await _TOTAL.rows(uow.session, {}) == [(0, 0)]
        await _INSERT.run(uow.session, _entry("kept", "1.00", date(2026, 1, 1), 1))
        await uow.commit()
        # After the commit the next statement runs in a new transaction of the same session.
        await _INSERT.run(uow.session, _entry("dropped", "1.00", date(2026, 1, 1), 2))
    async with new_uow() as uow:
        assert [row[0] for row in await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})] == ["kept"]


async def test_rows_inserted_at_commit_go_in_with_the_events_in_order(new_uow) -> None:
    """``UnitOfWork.insert_at_commit``: the rows and the outbox rows are written together at
    commit (one statement on PostgreSQL, ``insert_together``), values converted as usual, the
    events numbered in the order they were emitted; a rollback writes neither, and an error in
    the combined statement loses the whole transaction."""
    from creditguard_shared.events.contracts import CreditCheckDecidedV1

    table = Entry.__table__

    def decided(order_id: str) -> CreditCheckDecidedV1:
        return CreditCheckDecidedV1(
            check_id=order_id, buyer_id="B-1", order_id=order_id, decision="approved", amount=Decimal("1.00"), currency="EUR", decided_by=None
        )

    async with new_uow() as uow:
        uow.insert_at_commit(table, _entry("rolled-back", "1.00", date(2026, 1, 1), 1))
        uow.emit(decided("O-0"), subject="B-1")
        await uow.rollback()
    for count in (0, 1, 3, 12):  # 0: rows without events; 12: more events than one combined statement takes
        async with new_uow() as uow:
            uow.insert_at_commit(table, _entry(f"first-{count}", "12.34", date(2026, 2, 1), 1))
            uow.insert_at_commit(table, _entry(f"second-{count}", "0.01", date(2026, 3, 1), 2))
            for n in range(count):
                uow.emit(decided(f"O-{count}-{n}"), subject="B-1")
            await uow.commit()
    async with new_uow() as uow:
        stored = (await uow.session.execute(select(Entry.entry_id, Entry.amount, Entry.due_on).order_by(Entry.entry_id))).all()
        keys = (await uow.session.execute(select(tables.outbox.c.payload).order_by(tables.outbox.c.seq))).scalars().all()
    assert [tuple(row) for row in stored] == [
        (f"{which}-{count}", amount, due_on)
        for which, amount, due_on in (("first", Decimal("12.34"), date(2026, 2, 1)), ("second", Decimal("0.01"), date(2026, 3, 1)))
        for count in (0, 1, 12, 3)
    ]
    assert [json.loads(payload)["data"]["order_id"] for payload in keys] == [f"O-{count}-{n}" for count in (1, 3, 12) for n in range(count)]

    async with new_uow() as uow:
        uow.insert_at_commit(table, _entry("third", "1.00", date(2026, 1, 1), 3))
        uow.insert_at_commit(table, _entry("first-1", "1.00", date(2026, 1, 1), 4))  # its key is taken
        uow.emit(decided("O-lost"), subject="B-1")
        with pytest.raises(exc.IntegrityError):
            await uow.commit()
    async with new_uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(Entry).where(Entry.entry_id == "third"))).scalar_one() == 0
        assert (await uow.session.execute(select(func.count()).select_from(tables.outbox))).scalar_one() == 16


async def test_run_many_converts_a_repeated_value_once_and_every_other_value_afresh(new_uow) -> None:
    """``run_many`` reuses a converted value while the next parameter set holds the very same
    object (a batch's one date, its currency): every row still gets its own value, whether the
    object repeats, changes, comes back after another, or an equal but distinct one follows."""
    shared_amount, shared_day = Decimal("19.99"), date(2026, 4, 30)
    amounts = [shared_amount, shared_amount, Decimal("0.01"), shared_amount, Decimal("19.99"), Decimal("1234567.89")]
    days = [shared_day, shared_day, shared_day, date(2026, 5, 1), shared_day, date(2026, 4, 30)]
    rows = [{**_entry(f"r{n}", "0", day, n), "amount": amount} for n, (amount, day) in enumerate(zip(amounts, days, strict=True))]
    async with new_uow() as uow:
        await _INSERT.run_many(uow.session, rows)
        await uow.commit()
    async with new_uow() as uow:
        stored = (await uow.session.execute(select(Entry.entry_id, Entry.amount, Entry.due_on).order_by(Entry.rank))).all()
    assert [tuple(row) for row in stored] == [(f"r{n}", amount, day) for n, (amount, day) in enumerate(zip(amounts, days, strict=True))]


async def test_a_session_committed_directly_gets_a_new_transaction(new_uow) -> None:
    async with new_uow() as uow:
        await _INSERT.run(uow.session, _entry("committed", "1.00", date(2026, 1, 1), 1))
        await uow.session.commit()  # not through the unit of work
        await _INSERT.run(uow.session, _entry("rolled-back", "1.00", date(2026, 1, 1), 2))
        await uow.session.rollback()
    async with new_uow() as uow:
        assert [row[0] for row in await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})] == ["committed"]


async def test_driver_errors_are_sqlalchemys_and_lose_the_transaction(new_uow) -> None:
    async with new_uow() as uow:
        await _INSERT.run(uow.session, _entry("a", "1.00", date(2026, 1, 1), 1))
        await uow.commit()
    with pytest.raises(exc.IntegrityError):  # noqa: PT012 - the unit of work as a whole is what fails
        async with new_uow() as uow:
            await _INSERT.run(uow.session, _entry("b", "1.00", date(2026, 1, 1), 2))
            await _INSERT.run(uow.session, _entry("a", "2.00", date(2026, 1, 1), 3))
    async with new_uow() as uow:
        assert [row[0] for row in await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})] == ["a"]


def test_statements_with_expanding_parameters_are_refused() -> None:
    from sqlalchemy.dialects import sqlite

    statement = PreparedStatement(select(Entry.entry_id).where(Entry.entry_id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="plain positional parameters"):
        statement._compiled(sqlite.dialect())


@pytest.mark.parametrize("database_backend", ["postgresql"], indirect=True)
async def test_a_statement_made_stale_by_another_connections_ddl_is_prepared_again(new_uow, database_url: str) -> None:
    """asyncpg keeps statements prepared per connection; a column whose type another connection
    changed makes the cached one stale. That unit of work fails (rolled back); the next prepares
    the statement again and is served."""
    async with new_uow() as uow:
        await _INSERT.run(uow.session, _entry("a", "1.00", date(2026, 1, 1), 1))
        await uow.commit()
    async with new_uow() as uow:
        assert [row[0] for row in await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})] == ["a"]
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute("ALTER TABLE prepared_entries ALTER COLUMN entry_id TYPE text")
    finally:
        await admin.close()
    with pytest.raises(exc.DBAPIError, match=r"(?i)cached statement"):
        async with new_uow() as uow:
            await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})
    async with new_uow() as uow:
        assert [row[0] for row in await _BY_DUE.rows(uow.session, {"due_by": date(2026, 1, 1)})] == ["a"]
