"""The service's connection to the broker: a lazily (re)started producer and topic creation.
The REST API never waits for the broker: callers get ``None`` while it is unreachable."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from creditguard_shared.events.catalogue import TOPICS
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.settings import KafkaSettings

logger = logging.getLogger(__name__)


async def ensure_topics(settings: KafkaSettings, *, replication_factor: int = 1) -> list[str]:
    """Create every catalogue topic and its dead-letter topic; existing ones are left alone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=settings.request_timeout_ms)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for topic in TOPICS:
            if topic.name not in existing:
                wanted.append(NewTopic(topic.name, topic.partitions, replication_factor))
            if topic.dead_letter_topic not in existing:
                wanted.append(NewTopic(topic.dead_letter_topic, 1, replication_factor))
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another service created them first
        return [t.name for t in wanted]
    finally:
        await admin.close()


class KafkaConnection:
    def __init__(self, *, settings: KafkaSettings, service: str, metrics: ServiceMetrics, create_topics: bool = True) -> None:
        self.settings = settings
        self.service = service
        self.metrics = metrics
        self.create_topics = create_topics
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._next_attempt = 0.0
        self._backoff = 0.5

    async def producer(self) -> AIOKafkaProducer | None:
        """The started producer, or None if the broker cannot be reached right now (retried with backoff)."""
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is not None:
                return self._producer
            if time.monotonic() < self._next_attempt:
                return None
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.bootstrap_servers,
                enable_idempotence=self.settings.enable_idempotence,
                acks=self.settings.acks if self.settings.acks == "all" else int(self.settings.acks),
                request_timeout_ms=self.settings.request_timeout_ms,
                client_id=f"creditguard-{self.service}",
            )
            try:
                if self.create_topics:
                    await ensure_topics(self.settings)
                await producer.start()
            except Exception as exc:  # noqa: BLE001 - any connection failure means "not now"
                await stop_quietly(producer)
                self._next_attempt = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, 10.0)
                logger.warning("broker unreachable (%s); events wait in the outbox", exc.__class__.__name__)
                self.metrics.broker_up.labels(self.service).set(0)
                return None
            self._producer = producer
            self._backoff = 0.5
            self.metrics.broker_up.labels(self.service).set(1)
            return producer

    async def reset_producer(self) -> None:
        """Drop a producer whose sends fail, so the next use reconnects (and re-creates topics)."""
        async with self._lock:
            producer, self._producer = self._producer, None
        self.metrics.broker_up.labels(self.service).set(0)
        if producer is not None:
            await stop_quietly(producer)

    async def is_reachable(self, timeout: float = 2.0) -> tuple[bool, str | None]:
        producer = await self.producer()
        if producer is None:
            return False, f"broker {self.settings.bootstrap_servers} unreachable"
        try:
            async with asyncio.timeout(timeout):
                await producer.client.fetch_all_metadata()
        except Exception as exc:  # noqa: BLE001
            return False, f"broker {self.settings.bootstrap_servers} not answering: {exc.__class__.__name__}"
        return True, None

    async def close(self) -> None:
        await self.reset_producer()


async def stop_quietly(client) -> None:  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(2):
            await client.stop()
    except Exception:  # noqa: BLE001 - best effort on a client that never connected
        pass
