"""Transactional outbox: events are rows written in the same transaction as the state change;
the relay publishes them in order and marks them published. Delivery is at least once, in order
per key; consumers make duplicates harmless."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from creditguard_shared.database import is_sqlite
from creditguard_shared.events.envelope import CLOUDEVENTS_CONTENT_TYPE, EventEnvelope
from creditguard_shared.kafka import KafkaConnection
from creditguard_shared.messaging_tables import MessagingTables
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.prepared import insert_together
from creditguard_shared.timing import cancelling_current_task, raise_if_cancel_was_swallowed, wait_at_most

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


@dataclass(frozen=True)
class Acknowledgement:
    """The broker's answer for one sent row: where the event now lives."""

    seq: int
    partition: int
    offset: int


@dataclass(frozen=True)
class PublishedPosition:
    seq: int
    event_id: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class ReplayFilter:
    """Which retained events to publish again: all filters must hold; None means any."""

    since: datetime | None = None
    until: datetime | None = None
    buyer_id: str | None = None
    topic: str | None = None


_NEW_ROW_COLUMNS = ("event_id", "topic", "message_key", "event_type", "payload", "correlation_id", "created_at")


class OutboxRepository:
    def __init__(self, session: AsyncSession, tables: MessagingTables) -> None:
        self.session = session
        self.table = tables.outbox

    async def add_many(self, events: list[PendingEvent], *, leading: Sequence[tuple[Table, Mapping[str, Any]]] = ()) -> None:
        """Write the events' rows in order; ``leading``: whole rows of other tables inserted with
        them, in the same statement where the database allows (``insert_together``)."""
        if not events and not leading:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": e.envelope.id,
                "topic": e.topic,
                "message_key": e.envelope.subject,
                "event_type": e.envelope.type,
                "payload": e.envelope.to_json(),
                "correlation_id": e.envelope.correlationid,
                "created_at": now,
            }
            for e in events
        ]
        await insert_together(self.session, leading=leading, table=self.table, columns=_NEW_ROW_COLUMNS, rows=rows)

    async def unpublished(self, limit: int) -> list[OutboxRow]:
        t = self.table
        result = await self.session.execute(
            select(t.c.seq, t.c.event_id, t.c.topic, t.c.message_key, t.c.event_type, t.c.payload, t.c.correlation_id)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.seq)
            .limit(limit)
        )
        return [OutboxRow(*row) for row in result.all()]

    async def mark_published(self, acknowledgements: list[Acknowledgement]) -> None:
        if not acknowledgements:
            return
        now = datetime.now(UTC)
        t = self.table
        statement = (
            update(t)
            .where(t.c.seq == bindparam("ack_seq"))
            .values(published_at=now, broker_partition=bindparam("ack_partition"), broker_offset=bindparam("ack_offset"))
        )
        # executemany of one Core statement: each row gets its own position.
        await self.session.execute(
            statement,
            [{"ack_seq": a.seq, "ack_partition": a.partition, "ack_offset": a.offset} for a in acknowledgements],
        )

    async def record_failure(self, seq: int, error: str) -> None:
        await self.session.execute(update(self.table).where(self.table.c.seq == seq).values(attempts=self.table.c.attempts + 1, last_error=error[:2000]))

    async def backlog(self) -> tuple[int, datetime | None]:
        t = self.table
        result = await self.session.execute(select(func.count(), func.min(func.coalesce(t.c.requeued_at, t.c.created_at))).where(t.c.published_at.is_(None)))
        count, oldest = result.one()
        return int(count), _aware(oldest)

    async def highest_positions(self) -> list[PublishedPosition]:
        """Per partition, the published row at the highest offset: what the broker must still hold."""
        t = self.table
        highest = (
            select(t.c.topic, t.c.broker_partition, func.max(t.c.broker_offset).label("offset"))
            .where(t.c.published_at.is_not(None), t.c.broker_offset.is_not(None))
            .group_by(t.c.topic, t.c.broker_partition)
            .subquery()
        )
        result = await self.session.execute(
            select(t.c.seq, t.c.event_id, t.c.topic, t.c.broker_partition, t.c.broker_offset)
            .join(
                highest,
                and_(t.c.topic == highest.c.topic, t.c.broker_partition == highest.c.broker_partition, t.c.broker_offset == highest.c.offset),
            )
            .where(t.c.published_at.is_not(None))
        )
        latest: dict[tuple[str, int], PublishedPosition] = {}
        for row in result.all():
            position = PublishedPosition(*row)
            # Two rows can share an offset when a re-created log handed it out again: keep the newer.
            key = (position.topic, position.partition)
            if key not in latest or position.seq > latest[key].seq:
                latest[key] = position
        return list(latest.values())

    async def published_in_partition(self, topic: str, partition: int) -> list[PublishedPosition]:
        """A partition's published rows, by offset then publication order."""
        t = self.table
        result = await self.session.execute(
            select(t.c.seq, t.c.event_id, t.c.topic, t.c.broker_partition, t.c.broker_offset)
            .where(t.c.topic == topic, t.c.broker_partition == partition, t.c.published_at.is_not(None), t.c.broker_offset.is_not(None))
            .order_by(t.c.broker_offset, t.c.seq)
        )
        return [PublishedPosition(*row) for row in result.all()]

    async def published_in_topic(self, topic: str) -> list[int]:
        t = self.table
        result = await self.session.execute(select(t.c.seq).where(t.c.topic == topic, t.c.published_at.is_not(None)))
        return [row[0] for row in result.all()]

    async def requeue(self, seqs: list[int]) -> int:
        """Publish these rows again: the relay picks them up as pending, in their original order."""
        t = self.table
        count = 0
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            result = await self.session.execute(
                update(t)
                .where(t.c.seq.in_(chunk), t.c.published_at.is_not(None))
                .values(published_at=None, broker_partition=None, broker_offset=None, requeued_at=datetime.now(UTC))
            )
            count += cast("CursorResult[Any]", result).rowcount
        return count

    async def requeue_matching(self, replay: ReplayFilter) -> dict[str, int]:
        """An operator's replay: queue the retained, published events that match again; answers
        how many per topic. Events still pending are on their way already and are left alone."""
        t = self.table
        conditions: list[ColumnElement[bool]] = [t.c.published_at.is_not(None)]
        if replay.since is not None:
            conditions.append(t.c.created_at >= replay.since)
        if replay.until is not None:
            conditions.append(t.c.created_at < replay.until)
        if replay.buyer_id is not None:
            conditions.append(t.c.message_key == replay.buyer_id)
        if replay.topic is not None:
            conditions.append(t.c.topic == replay.topic)
        result = await self.session.execute(select(t.c.seq, t.c.topic).where(*conditions).order_by(t.c.seq))
        rows = result.all()
        await self.requeue([seq for seq, _ in rows])
        counts: dict[str, int] = {}
        for _, topic in rows:
            counts[topic] = counts.get(topic, 0) + 1
        return counts

    async def prune_published_before(self, cutoff: datetime, *, batch: int = 5000) -> int:
        """Delete published rows older than the retention, a batch at a time (short transactions)."""
        t = self.table
        doomed = select(t.c.seq).where(t.c.published_at.is_not(None), t.c.published_at < cutoff).limit(batch).scalar_subquery()
        result = await self.session.execute(delete(t).where(t.c.seq.in_(doomed)))
        return int(cast("CursorResult[Any]", result).rowcount or 0)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # SQLite drops the offset
    return moment


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
        retention_days: float = 7.0,
        prune_interval: float = 3600.0,
        check_interval: float = 10.0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.session_factory = session_factory
        self.tables = tables
        self.kafka = kafka
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention = timedelta(days=retention_days)
        self.prune_interval = prune_interval
        self.check_interval = check_interval
        self._wake = asyncio.Event()
        self._lock_key = zlib.crc32(f"creditguard-outbox-{service}".encode())
        # The broker as last seen: read back everything at start (a broker may have been lost
        # while this service was down), then on suspicion only (see broker_audit).
        self._read_back_everything = True
        self._next_check = 0.0
        self._next_prune = 0.0
        self._cluster_id: str | None = None
        self._verified: dict[tuple[str, int], tuple[int, int]] = {}
        # Per partition, the published row at the highest offset: kept up to date by each pass,
        # so the periodic check needs no query; None: read it from the database.
        self._highest: dict[tuple[str, int], PublishedPosition] | None = None
        # Per partition, the highest row before the broker answered a lower offset there: proof
        # the log was re-created, kept until it is read back (by then rows published since may
        # sit above it, and the highest row alone would look held).
        self._went_backwards: dict[tuple[str, int], PublishedPosition] = {}
        self.last_publish_at: datetime | None = None
        self.last_check_at: datetime | None = None
        self.last_loss: dict[str, object] | None = None

    def wake(self) -> None:
        """Called after a commit that wrote events, so they leave without waiting for the poll."""
        self._wake.set()

    def read_back_everything_soon(self) -> None:
        """The broker was away: before publishing on, check that it still holds what it was sent."""
        self._read_back_everything = True
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
        self._read_back_everything = True  # a new leader knows nothing of what happened meanwhile
        self._highest = None
        while True:
            try:
                await self._check_broker_if_due()
                await self._prune_if_due()
                published = await self.publish_pending()
            except asyncio.CancelledError:
                if cancelling_current_task():
                    raise
                logger.warning("outbox relay pass interrupted by its broker client", exc_info=True)
                published = 0
            except Exception:
                logger.exception("outbox relay pass failed")
                published = 0
            raise_if_cancel_was_swallowed()
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
        acknowledged: list[Acknowledgement] = []
        for row, future in zip(rows, futures, strict=False):
            try:
                metadata = await future
            except Exception as exc:  # noqa: BLE001 - a refused or failed send: the row and those after it stay pending
                failure = failure or (row.seq, repr(exc))
                break
            acknowledged.append(Acknowledgement(row.seq, metadata.partition, metadata.offset))
            self._note_position(PublishedPosition(row.seq, row.event_id, row.topic, metadata.partition, metadata.offset))
            self.metrics.events_published.labels(self.service, row.topic).inc()
        for unheard in futures[len(acknowledged) :]:
            # Sends behind the first failure fail too or arrive out of order; they stay pending and
            # go again. Their outcome is collected so asyncio does not report it as never retrieved.
            unheard.add_done_callback(lambda future: future.cancelled() or future.exception())
        if acknowledged:
            self.last_publish_at = datetime.now(UTC)
            self.metrics.last_publish.labels(self.service).set(self.last_publish_at.timestamp())
        async with self.session_factory() as session, session.begin():
            repo = OutboxRepository(session, self.tables)
            await repo.mark_published(acknowledged)
            if failure:
                await repo.record_failure(*failure)
        if failure:
            logger.warning("outbox publish stopped at seq %s: %s", failure[0], failure[1])
            # A broker that fails sends may have come back as another one: read back before going on.
            self._read_back_everything = True
            await self.kafka.reset_producer()
        count_left = count - len(acknowledged)
        self._record_backlog(count_left, oldest if count_left else None)
        return len(acknowledged)

    def _note_position(self, position: PublishedPosition) -> None:
        if self._highest is None:
            return  # read from the database at the next check
        key = (position.topic, position.partition)
        previous = self._highest.get(key)
        if previous is not None and position.offset <= previous.offset:
            # Offsets only grow in a partition's log: this one was truncated or re-created.
            logger.warning(
                "broker answered offset %d on %s/%d where it had answered %d: reading back what was published",
                position.offset,
                position.topic,
                position.partition,
                previous.offset,
            )
            self._went_backwards.setdefault(key, previous)
            self._read_back_everything = True
        self._highest[key] = position

    async def _check_broker_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if not self._read_back_everything and now < self._next_check:
            return
        if await self.kafka.producer() is None:
            return  # unreachable: checked once it answers again
        try:
            await self.find_and_requeue_lost_events(everything=self._read_back_everything)
        except asyncio.CancelledError:
            if cancelling_current_task():
                raise
            # aiokafka lets its own internal cancellations escape when the broker vanishes mid-call.
            logger.warning("checking the broker for lost events was interrupted", exc_info=True)
            self._next_check = now + min(self.check_interval, 2.0)
            return
        except Exception as exc:  # the broker went away mid-check: try again soon
            logger.warning("checking the broker for lost events failed: %r", exc, exc_info=True)
            self._next_check = now + min(self.check_interval, 2.0)
            return
        self._read_back_everything = False
        self._next_check = now + self.check_interval

    async def find_and_requeue_lost_events(self, *, everything: bool = False) -> int:
        """Reads back what was published, queues again whatever the broker no longer holds (see
        broker_audit); answers how many events were queued again."""
        from creditguard_shared import broker_audit  # which imports this module's PublishedPosition

        if self._highest is None or everything:
            async with self.session_factory() as session, session.begin():
                self._highest = {(p.topic, p.partition): p for p in await OutboxRepository(session, self.tables).highest_positions()}
        positions = list(self._highest.values())
        settings = self.kafka.settings
        view = await broker_audit.look_at_broker(settings, {p.topic for p in positions})
        if self._cluster_id is not None and view.cluster_id != self._cluster_id:
            logger.warning("the broker's cluster id changed from %r to %r", self._cluster_id, view.cluster_id)
        backwards = dict(self._went_backwards)
        gone, to_read = broker_audit.suspicions(
            positions,
            view,
            previous_cluster_id=self._cluster_id,
            verified=self._verified,
            everything=everything,
            went_backwards=backwards,
        )
        self._cluster_id = view.cluster_id
        self.last_check_at = datetime.now(UTC)
        lost: list[broker_audit.Suspicion] = list(gone)
        requeue: list[int] = []
        async with broker_audit.ReadBack(settings) as read_back:
            held = await read_back.holds({(s.position.topic, s.position.partition): s.position for s in to_read})
            for suspicion in to_read:
                key = (suspicion.position.topic, suspicion.position.partition)
                if held[key]:
                    self._verified[key] = (suspicion.position.offset, view.end_offsets.get(key, 0))
                else:
                    lost.append(suspicion)
            if not lost:
                self._forget_went_backwards(backwards)
                return 0
            rows: dict[tuple[str, int], list[PublishedPosition]] = {}
            async with self.session_factory() as session, session.begin():
                repo = OutboxRepository(session, self.tables)
                for suspicion in lost:
                    key = (suspicion.position.topic, suspicion.position.partition)
                    rows[key] = await repo.published_in_partition(*key)
            gone_keys = {(s.position.topic, s.position.partition) for s in gone}
            # The top row is known lost; the others are read back unless the partition is gone.
            first = (
                await read_back.first_lost_in({key: partition_rows[:-1] for key, partition_rows in rows.items() if key not in gone_keys})
                if any(key not in gone_keys for key in rows)
                else {}
            )
        for key, partition_rows in rows.items():
            start = 0 if key in gone_keys else first.get(key, 0)
            requeue.extend(row.seq for row in partition_rows[start:])
            self._verified.pop(key, None)
        self._highest = None  # what is left published in those partitions is read again
        async with self.session_factory() as session, session.begin():
            count = await OutboxRepository(session, self.tables).requeue(requeue)
        self._forget_went_backwards(backwards)
        reasons = sorted({s.reason for s in lost})
        for reason in reasons:
            self.metrics.broker_data_loss.labels(self.service, reason).inc()
        self.metrics.events_republished.labels(self.service, "broker-loss").inc(count)
        self.last_loss = {
            "detected_at": datetime.now(UTC).isoformat(),
            "reasons": reasons,
            "events_requeued": count,
            "partitions": sorted(f"{topic}/{partition}" for topic, partition in rows),
        }
        logger.warning("the broker lost %d published events on %d partitions (%s): publishing them again", count, len(rows), ", ".join(reasons))
        # The producer still partitions by the topics it knew: a re-created topic may have fewer
        # partitions, and a send to one it no longer has would be lost again (or, on tansu, kept
        # where no consumer looks). A new producer starts from the broker's current metadata.
        await self.kafka.reset_producer(broker_down=False)
        self.wake()
        return count

    def _forget_went_backwards(self, read: dict[tuple[str, int], PublishedPosition]) -> None:
        for key, position in read.items():
            if self._went_backwards.get(key) == position:
                del self._went_backwards[key]

    async def _prune_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_prune:
            return
        self._next_prune = now + self.prune_interval
        await self.prune()

    async def prune(self) -> int:
        """Delete published events older than the retention."""
        cutoff = datetime.now(UTC) - self.retention
        total = 0
        while True:
            async with self.session_factory() as session, session.begin():
                deleted = await OutboxRepository(session, self.tables).prune_published_before(cutoff)
            total += deleted
            if deleted == 0:
                break
        if total:
            self._highest = None  # a partition's highest row may have gone: read them again
            self.metrics.outbox_pruned.labels(self.service).inc(total)
            logger.info("pruned %d published outbox events older than %s", total, cutoff.isoformat())
        return total

    def _record_backlog(self, count: int, oldest: datetime | None) -> None:
        self.metrics.outbox_pending.labels(self.service).set(count)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_age.labels(self.service).set(max(age, 0.0))
