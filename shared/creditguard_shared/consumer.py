"""Idempotent Kafka consumer: each event's id is recorded in the same transaction as its effect,
offsets are committed afterwards, and a message that cannot be parsed or keeps failing goes to
the topic's dead-letter topic with the reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel, ValidationError

from creditguard_shared.errors import DomainError
from creditguard_shared.events.catalogue import topic_named
from creditguard_shared.events.envelope import EventEnvelope, service_source
from creditguard_shared.kafka import KafkaConnection, ensure_topics, stop_quietly
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.observability import correlation_id_var, new_correlation_id
from creditguard_shared.settings import KafkaSettings
from creditguard_shared.timing import raise_if_cancel_was_swallowed, wait_at_most
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

# The payload is the catalogue's contract model of the subscription's topic: each handler annotates
# its own (a Callable of the common base would refuse every handler of a concrete contract).
EventHandler = Callable[[UnitOfWork, Any, EventEnvelope], Awaitable[None]]
# Called in a batch's transaction with the payloads about to be handled, before the first handler.
BatchPreparation = Callable[[UnitOfWork, list[BaseModel]], Awaitable[None]]


class DeadLetterNotDelivered(Exception):
    """The dead-letter topic could not be written; the offset is not committed and the message returns."""


@dataclass(frozen=True)
class Subscription:
    topic: str
    handler: EventHandler
    # For topics a service both consumes and publishes (an invoice posted through REST is
    # published on invoice-posted, where ERPs post theirs too): its own events took effect in the
    # transaction that wrote them, so consuming them again would only cost a transaction.
    ignore_own_events: bool = False


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        subscriptions: list[Subscription],
        uow_factory: UnitOfWorkFactory,
        kafka: KafkaConnection,
        settings: KafkaSettings,
        metrics: ServiceMetrics,
        service: str,
        retry_backoff_seconds: float = 0.2,
        events_per_transaction: int = 1,
        prepare_batch: BatchPreparation | None = None,
    ) -> None:
        self.name = name
        self.group_id = f"creditguard-{name}"
        self.handlers = {s.topic: s.handler for s in subscriptions}
        self.ignores_own_events = {s.topic for s in subscriptions if s.ignore_own_events}
        self.own_source = service_source(service)
        self.uow_factory = uow_factory
        self.kafka = kafka
        self.settings = settings
        self.metrics = metrics
        self.service = service
        self.retry_backoff_seconds = retry_backoff_seconds
        self.events_per_transaction = max(events_per_transaction, 1)
        # A batch's handlers each read a row or two about their buyer: reading them for the whole
        # batch at once saves a statement (and its ORM work) per event.
        self.prepare_batch = prepare_batch
        self.assigned = asyncio.Event()
        self._stopping = asyncio.Event()
        # The offsets this process last committed, to tell a broker that forgot them (see
        # ``_commit``); kept across reconnections because that is when a broker comes back empty.
        self._committed: dict[TopicPartition, int] = {}

    def request_stop(self) -> None:
        """Finish the current batch, commit, leave the group. Cancelling instead would interrupt
        aiokafka mid-fetch and make its shutdown wait for timeouts."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until cancelled; reconnects with backoff while the broker is away."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                # Subscribing names the topics in a metadata request, which lets a broker that
                # auto-creates topics invent them with its defaults: they are created first.
                await ensure_topics(self.settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker is away: wait for it as below
                logger.warning("consumer %s waits for the broker: %s", self.name, exc.__class__.__name__)
                raise_if_cancel_was_swallowed()
                await wait_at_most(self._stopping.wait(), seconds=backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            consumer = AIOKafkaConsumer(
                *self.handlers,
                bootstrap_servers=self.settings.bootstrap_servers,
                group_id=self.group_id,
                client_id=f"creditguard-{self.name}",
                enable_auto_commit=False,
                auto_offset_reset=self.settings.consumer_auto_offset_reset,
                request_timeout_ms=max(self.settings.request_timeout_ms, 40_000),
                session_timeout_ms=self.settings.consumer_session_timeout_ms,
                heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
                fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            )
            try:
                await consumer.start()
                backoff = 0.5
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect on any client failure
                logger.warning("consumer %s restarting after %s: %s", self.name, exc.__class__.__name__, exc)
                raise_if_cancel_was_swallowed()
                await wait_at_most(self._stopping.wait(), seconds=backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self.assigned.clear()
                await stop_quietly(consumer)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            if consumer.assignment():
                self.assigned.set()
            # A fetch spans many partitions (six per topic), each holding a few messages: grouping
            # across them keeps transactions full, and one offset commit covers the whole fetch.
            # Each partition's messages keep their order; a crash before the commit replays the
            # fetch, which the processed-event ids make harmless.
            records = [record for partition_records in batch.values() for record in partition_records]
            for start in range(0, len(records), self.events_per_transaction):
                await self.process_together(records[start : start + self.events_per_transaction])
            if batch:
                await self._commit(consumer, {partition: partition_records[-1].offset + 1 for partition, partition_records in batch.items()})
            await self._record_lag(consumer)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit, unless the broker no longer holds the offsets this process committed last.

        A broker that came back empty (the local broker keeps everything in memory; a rebuilt
        cluster) has lost the group's offsets and its logs, and the producers refill the logs from
        offset 0. A consumer fetching from the position it held before reads only what lands past
        that position and would never see what landed below it. Asking the broker first costs one
        request per fetch; when it has forgotten, those partitions are read again from the start,
        which the processed-event ids make harmless."""
        remembered = {partition: self._committed[partition] for partition in offsets if partition in self._committed}
        if remembered:
            held = await consumer._coordinator.fetch_committed_offsets(list(remembered))  # one request for all partitions
            forgotten = [
                partition for partition, offset in remembered.items() if partition not in held or held[partition].offset < 0 or held[partition].offset < offset
            ]
            if forgotten:
                logger.warning(
                    "consumer %s: the broker no longer holds the offsets committed for %s; reading them again from the start",
                    self.name,
                    ", ".join(f"{p.topic}/{p.partition}" for p in forgotten),
                )
                self.metrics.broker_data_loss.labels(self.service, "consumer-offsets-lost").inc()
                await consumer.seek_to_beginning(*forgotten)
                for partition in forgotten:
                    del self._committed[partition]
                    del offsets[partition]
        if offsets:
            await consumer.commit(offsets)
            self._committed.update(offsets)

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        for partition in consumer.assignment():
            highwater = consumer.highwater(partition)
            if highwater is None:
                continue
            position = await consumer.position(partition)
            self.metrics.consumer_lag.labels(self.service, partition.topic, str(partition.partition)).set(max(highwater - position, 0))

    async def process_together(self, records: list[ConsumerRecord]) -> list[str]:
        """Handle messages in one transaction: one begin and commit, and what a handler reads once
        per unit of work, for all of them. The service's own events are skipped as ``process``
        skips them. If any cannot be parsed or fails, the transaction is rolled back and each
        message goes through ``process`` on its own, which retries and dead-letters as usual."""
        if len(records) == 1:
            return [await self.process(records[0])]
        outcomes: list[str] = []
        try:
            parsed = [(record, *self._parse(record)) for record in records]
            async with self.uow_factory() as uow:
                # One statement claims the batch; an id the topic holds twice is handled once.
                to_handle = await uow.claim_events(
                    consumer=self.name, events=[(envelope.id, record.topic) for record, envelope, _ in parsed if not self._is_own(record, envelope)]
                )
                if self.prepare_batch is not None and to_handle:
                    await self.prepare_batch(uow, [payload for _, envelope, payload in parsed if envelope.id in to_handle])
                for record, envelope, payload in parsed:
                    if self._is_own(record, envelope):
                        outcomes.append("ignored")
                        continue
                    if envelope.id not in to_handle:
                        outcomes.append("duplicate")
                        continue
                    to_handle.discard(envelope.id)
                    token = correlation_id_var.set(envelope.correlationid or new_correlation_id())
                    try:
                        await self.handlers[record.topic](uow, payload, envelope)
                        outcomes.append("processed")
                    finally:
                        correlation_id_var.reset(token)
                await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - rolled back; one at a time below, with the usual retries
            return [await self.process(record) for record in records]
        for record, outcome in zip(records, outcomes, strict=True):
            self.metrics.events_consumed.labels(self.service, record.topic, outcome).inc()
        return outcomes

    def _is_own(self, record: ConsumerRecord, envelope: EventEnvelope) -> bool:
        return record.topic in self.ignores_own_events and envelope.source == self.own_source

    @staticmethod
    def _parse(record: ConsumerRecord) -> tuple[EventEnvelope, BaseModel]:
        envelope = EventEnvelope.from_bytes(record.value)
        topic = topic_named(record.topic)
        if envelope.type != topic.event_type:
            raise ValueError(f"event type {envelope.type!r} does not belong on topic {record.topic!r}")
        return envelope, topic.payload.model_validate(envelope.data)

    async def process(self, record: ConsumerRecord) -> str:
        """Handle one message; returns the outcome (processed, duplicate, ignored, dead-lettered)."""
        try:
            envelope, payload = self._parse(record)
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            await self._dead_letter(record, reason="unparseable", detail=str(exc))
            return "dead-lettered"

        if self._is_own(record, envelope):
            self.metrics.events_consumed.labels(self.service, record.topic, "ignored").inc()
            return "ignored"
        handler = self.handlers[record.topic]
        token = correlation_id_var.set(envelope.correlationid or new_correlation_id())
        try:
            last_error: Exception | None = None
            for attempt in range(1, self.settings.handler_max_attempts + 1):
                try:
                    async with self.uow_factory() as uow:
                        if not await uow.claim_event(consumer=self.name, event_id=envelope.id, topic=record.topic):
                            self.metrics.events_consumed.labels(self.service, record.topic, "duplicate").inc()
                            return "duplicate"
                        await handler(uow, payload, envelope)
                        await uow.commit()
                    self.metrics.events_consumed.labels(self.service, record.topic, "processed").inc()
                    return "processed"
                except asyncio.CancelledError:
                    raise
                except DomainError as exc:
                    # The event breaks a business rule (e.g. a conflicting re-send): retrying cannot help.
                    self.metrics.events_failed.labels(self.service, record.topic).inc()
                    await self._dead_letter(record, reason="rejected", detail=f"{exc.__class__.__name__}: {exc.detail}")
                    return "dead-lettered"
                except Exception as exc:  # noqa: BLE001 - a failing handler is retried, then dead-lettered
                    last_error = exc
                    self.metrics.events_failed.labels(self.service, record.topic).inc()
                    logger.warning(
                        "handler for %s failed (attempt %d): %r",
                        record.topic,
                        attempt,
                        exc,
                        extra={"event_id": envelope.id, "topic": record.topic},
                    )
                    await asyncio.sleep(self.retry_backoff_seconds * attempt)
            await self._dead_letter(record, reason="handler-failed", detail=repr(last_error))
            return "dead-lettered"
        finally:
            correlation_id_var.reset(token)

    async def _dead_letter(self, record: ConsumerRecord, *, reason: str, detail: str) -> None:
        producer = await self.kafka.producer()
        if producer is None:
            raise DeadLetterNotDelivered("broker unreachable")
        headers = [
            *(record.headers or ()),
            ("dlq-reason", reason.encode()),
            ("dlq-detail", detail[:4000].encode()),
            ("dlq-consumer", self.name.encode()),
            ("dlq-source-topic", record.topic.encode()),
            ("dlq-source-partition", str(record.partition).encode()),
            ("dlq-source-offset", str(record.offset).encode()),
        ]
        await producer.send_and_wait(topic_named(record.topic).dead_letter_topic, value=record.value, key=record.key, headers=headers)
        self.metrics.dead_lettered.labels(self.service, record.topic, reason).inc()
        logger.error("dead-lettered a message from %s: %s (%s)", record.topic, reason, detail[:500], extra={"topic": record.topic})
