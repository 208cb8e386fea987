"""A unit of work: one database transaction plus the events it causes, written to the outbox
in that same transaction. HTTP routes and Kafka handlers both use it, so both paths call the
same service functions."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

from sqlalchemy import CursorResult, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from creditguard_shared.events.catalogue import topic_for
from creditguard_shared.events.contracts import EventPayload
from creditguard_shared.events.envelope import EventEnvelope, new_event
from creditguard_shared.held import drop_held
from creditguard_shared.messaging_tables import MessagingTables
from creditguard_shared.outbox import OutboxRepository, PendingEvent


class UnitOfWork:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        source: str,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._tables = tables
        self._source = source
        self._after_commit = after_commit
        self._events: list[PendingEvent] = []
        self._rows_at_commit: list[tuple[Table, Mapping[str, Any]]] = []
        self._before_commit: dict[Hashable, Callable[[], Awaitable[None]]] = {}
        self._on_commit: list[Callable[[], None]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        await self.session.begin()
        self._events = []
        self._rows_at_commit = []
        self._before_commit = {}
        self._on_commit = []
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            drop_held(self.session)
            await self.session.close()

    def emit(self, payload: EventPayload, *, subject: str, time: datetime | None = None) -> EventEnvelope:
        """Queue an event; it is written to the outbox at commit, atomically with the state change."""
        envelope = new_event(source=self._source, payload=payload, subject=subject, time=time)
        self._events.append(PendingEvent(topic=topic_for(type(payload)).name, envelope=envelope))
        return envelope

    def insert_at_commit(self, table: Table, row: Mapping[str, Any]) -> None:
        """Insert ``row`` (a value for every column of ``table``) when this transaction commits,
        in the same statement as its events where the database allows: for a row that nothing
        in the transaction reads after it (a credit check's decision and reservation), it saves
        a round trip to PostgreSQL. A rollback writes nothing."""
        self._rows_at_commit.append((table, row))

    @property
    def emitted(self) -> list[EventEnvelope]:
        return [e.envelope for e in self._events]

    async def claim_event(self, *, consumer: str, event_id: str, topic: str) -> bool:
        """Record that ``consumer`` processed ``event_id``; False if it already had. Runs in this
        transaction, so the record and the effect commit or vanish together."""
        statement = _claim_statement(self._tables.processed_events, self.session.get_bind().dialect.name)
        result = await self.session.execute(statement, {"consumer": consumer, "event_id": event_id, "topic": topic, "processed_at": datetime.now(UTC)})
        return cast("CursorResult[Any]", result).rowcount == 1

    async def claim_events(self, *, consumer: str, events: list[tuple[str, str]]) -> set[str]:
        """``claim_event`` for many (event id, topic) pairs in one statement; answers the ids this
        call recorded (an id already processed, or repeated in ``events``, is claimed once at most)."""
        if not events:
            return set()
        processed_at = datetime.now(UTC)
        # Bound as many parameter sets to one prebuilt statement: SQLAlchemy still sends one
        # multi-row INSERT, but no longer builds and compiles a new statement (with its own
        # parameter names) for every batch, which cost more than the insert itself.
        rows = [{"consumer": consumer, "event_id": event_id, "topic": topic, "processed_at": processed_at} for event_id, topic in dict.fromkeys(events)]
        statement = _claim_many_statement(self._tables.processed_events, self.session.get_bind().dialect.name)
        return set((await self.session.execute(statement, rows)).scalars())

    def before_commit(self, key: Hashable, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` once, just before this transaction commits, however often it is asked for
        under ``key``. For checks over the whole book that many changes in one transaction call
        for (a batch of events moving exposures): they see every change and run once."""
        self._before_commit.setdefault(key, work)

    def on_commit(self, work: Callable[[], None]) -> None:
        """Run ``work`` once this transaction has committed, and never if it rolls back: for
        in-process effects such as metrics, which must count what the database kept, not a
        deadlocked attempt that a consumer retries."""
        self._on_commit.append(work)

    async def commit(self) -> None:
        while self._before_commit:
            # Work may ask for more work; each key still runs once per round.
            pending, self._before_commit = self._before_commit, {}
            for work in pending.values():
                await work()
        wrote_events = bool(self._events)
        await OutboxRepository(self.session, self._tables).add_many(self._events, leading=self._rows_at_commit)
        self._events, self._rows_at_commit = [], []
        await self.session.commit()
        drop_held(self.session)
        committed, self._on_commit = self._on_commit, []
        for effect in committed:
            effect()
        if wrote_events and self._after_commit is not None:
            self._after_commit()

    async def rollback(self) -> None:
        self._events = []
        self._rows_at_commit = []
        self._before_commit = {}
        self._on_commit = []
        drop_held(self.session)
        await self.session.rollback()


@functools.cache
def _claim_statement(table: Table, dialect: str) -> Insert:
    """Built once per table and dialect: every consumed event runs it."""
    dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=["consumer", "event_id"])


@functools.cache
def _claim_many_statement(table: Table, dialect: str) -> Insert:
    return _claim_statement(table, dialect).returning(table.c.event_id)


# A fresh unit of work per request or consumed event; the service wires it once at start-up.
UnitOfWorkFactory = Callable[[], UnitOfWork]
