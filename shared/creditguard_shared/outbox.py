"""Transactional outbox: events are rows written in the same transaction as the state change;
the relay publishes them in order and marks them published. Delivery is at least once, in order
per key; consumers make duplicates harmless."""

from __future__ import annotations

import asyncio
import functools
import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Insert, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from creditguard_shared.database import is_sqlite
from creditguard_shared.events.envelope import CLOUDEVENTS_CONTENT_TYPE, EventEnvelope
from creditguard_shared.kafka import KafkaConnection
from creditguard_shared.messaging_tables import MessagingTables
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.timing import wait_at_most

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingEvent:
    topic: str
    envelope: EventEnvelope


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    topic: str
    message_key: str
    event_type: str
    payload: str
    correlation_id: str | None


@functools.cache
def _insert_statement(table: Table) -> Insert:
    """Built once per table: every unit of work that emits runs it."""
    return insert(table)


class OutboxRepository:
    def __init__(self, session: AsyncSession, tables: MessagingTables) -> None:
        self.session = session
        self.table = tables.outbox

    async def add_many(self, events: list[PendingEvent]) -> None:
        if not events:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": e.envelope.id,
                "topic": e.topic,
                "message_key": e.envelope.subject,
                "event_type": e.envelope.type,
                "payload": e.envelope.to_bytes().decode(),
                "correlation_id": e.envelope.correlationid,
                "created_at": now,
            }
            for e in events
        ]
        # One row as a plain execute: the executemany path costs more for a single parameter set.
        await self.session.execute(_insert_statement(self.table), rows[0] if len(rows) == 1 else rows)

    async def unpublished(self, limit: int) -> list[OutboxRow]:
        t = self.table
        result = await self.session.execute(
            select(t.c.seq, t.c.event_id, t.c.topic, t.c.message_key, t.c.event_type, t.c.payload, t.c.correlation_id)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.seq)
            .limit(limit)
        )
        return [OutboxRow(*row) for row in result.all()]

    async def mark_published(self, seqs: list[int]) -> None:
        if seqs:
            await self.session.execute(
                update(self.table).where(self.table.c.seq.in_(seqs)).values(published_at=datetime.now(UTC))
            )

    async def record_failure(self, seq: int, error: str) -> None:
        await self.session.execute(
            update(self.table)
            .where(self.table.c.seq == seq)
            .values(attempts=self.table.c.attempts + 1, last_error=error[:2000])
        )

    async def backlog(self) -> tuple[int, datetime | None]:
        t = self.table
        result = await self.session.execute(
            select(func.count(), func.min(t.c.created_at)).where(t.c.published_at.is_(None))
        )
        count, oldest = result.one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite drops the offset
        return int(count), oldest


class OutboxRelay:
    """Publishes outbox rows. On PostgreSQL a session advisory lock elects one relay among the
    service's replicas, which keeps publication in commit order."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        kafka: KafkaConnection,
        metrics: ServiceMetrics,
        poll_interval: float,
        batch_size: int,
    ) -> None:
        self.service = service
        self.engine = engine
        self.session_factory = session_factory
        self.tables = tables
        self.kafka = kafka
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._wake = asyncio.Event()
        self._lock_key = zlib.crc32(f"creditguard-outbox-{service}".encode())

    def wake(self) -> None:
        """Called after a commit that wrote events, so they leave without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        if is_sqlite(str(self.engine.url)):
            await self._relay_loop()
            return
        while True:
            async with self.engine.connect() as leader_connection:
                acquired = (await leader_connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._lock_key})).scalar()
                await leader_connection.commit()
                if acquired:
                    try:
                        await self._relay_loop()
                    finally:
                        await leader_connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._lock_key})
                        await leader_connection.commit()
            await asyncio.sleep(max(self.poll_interval, 1.0))

    async def _relay_loop(self) -> None:
        while True:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox relay pass failed")
                published = 0
            if published >= self.batch_size:
                continue  # more waiting: keep draining
            await wait_at_most(self._wake.wait(), seconds=self.poll_interval)
            self._wake.clear()

    async def publish_pending(self) -> int:
        """One pass: read a batch, send it, mark the in-order prefix that the broker acknowledged.
        No database transaction is held while talking to the broker."""
        async with self.session_factory() as session, session.begin():
            repo = OutboxRepository(session, self.tables)
            rows = await repo.unpublished(self.batch_size)
            count, oldest = await repo.backlog()
        self._record_backlog(count, oldest)
        if not rows:
            return 0
        producer = await self.kafka.producer()
        if producer is None:
            return 0
        futures = []
        failure: tuple[int, str] | None = None
        for row in rows:
            try:
                futures.append(
                    await producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.message_key.encode(),
                        headers=[("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()), ("ce_type", row.event_type.encode())],
                    )
                )
            except Exception as exc:  # noqa: BLE001 - any send error ends the batch; the row stays pending
                failure = (row.seq, repr(exc))
                break
        acknowledged: list[int] = []
        for row, future in zip(rows, futures, strict=False):
            try:
                await future
            except Exception as exc:  # noqa: BLE001
                failure = failure or (row.seq, repr(exc))
                break
            acknowledged.append(row.seq)
            self.metrics.events_published.labels(self.service, row.topic).inc()
        async with self.session_factory() as session, session.begin():
            repo = OutboxRepository(session, self.tables)
            await repo.mark_published(acknowledged)
            if failure:
                await repo.record_failure(*failure)
        if failure:
            logger.warning("outbox publish stopped at seq %s: %s", failure[0], failure[1])
            await self.kafka.reset_producer()
        count_left = count - len(acknowledged)
        self._record_backlog(count_left, oldest if count_left else None)
        return len(acknowledged)

    def _record_backlog(self, count: int, oldest: datetime | None) -> None:
        self.metrics.outbox_pending.labels(self.service).set(count)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_age.labels(self.service).set(max(age, 0.0))

