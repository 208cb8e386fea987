"""The service's connection to the broker: a lazily (re)started producer and topic creation.
The REST API never waits for the broker: callers get ``None`` while it is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from creditguard_shared.events.catalogue import TOPICS
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.settings import KafkaSettings
from creditguard_shared.timing import cancelling_current_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the catalogue wants it on the broker."""

    name: str
    partitions: int
    configs: dict[str, str]


def wanted_topics() -> list[TopicSpec]:
    specs = []
    for topic in TOPICS:
        specs.append(TopicSpec(topic.name, topic.partitions, topic.broker_configs()))
        specs.append(TopicSpec(topic.dead_letter_topic, 1, topic.dead_letter_broker_configs()))
    return specs


def admin_client(settings: KafkaSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=settings.request_timeout_ms)


async def ensure_topics(settings: KafkaSettings, *, replication_factor: int = 1) -> list[str]:
    """Create every catalogue topic and its dead-letter topic with the catalogue's partitions,
    retention and cleanup policy; existing ones are left alone (check_topics reports how they
    differ). Listing all topics, never naming one, so the broker cannot auto-create any."""
    admin = admin_client(settings)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.configs) for spec in wanted_topics() if spec.name not in existing]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service created them first
                await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def check_topics(settings: KafkaSettings) -> list[str]:
    """How the broker's topics differ from the catalogue, one sentence each (empty: as wanted).
    Reported, never "fixed": fewer partitions than wanted would need a reshuffle of keys an
    operator decides on, and settings may have been tuned on purpose."""
    admin = admin_client(settings)
    try:
        await admin.start()
        described = {t["topic"]: t for t in await admin.describe_topics(None)}
        specs = wanted_topics()
        mismatches = [f"topic {spec.name} is missing" for spec in specs if spec.name not in described]
        present = [spec for spec in specs if spec.name in described]
        for spec in present:
            partitions = len(described[spec.name]["partitions"])
            if partitions != spec.partitions:
                mismatches.append(f"topic {spec.name} has {partitions} partitions, the catalogue says {spec.partitions}")
        if present:
            responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name) for spec in present])
            actual: dict[str, dict[str, str]] = {}
            for response in responses:
                for resource in response.to_object()["resources"]:
                    actual[resource["resource_name"]] = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
            for spec in present:
                for key, value in spec.configs.items():
                    found = actual.get(spec.name, {}).get(key)
                    if found != value:
                        mismatches.append(f"topic {spec.name} has {key}={found}, the catalogue says {value}")
        return mismatches
    finally:
        await admin.close()


async def describe_cluster(settings: KafkaSettings) -> str:
    """The cluster id the broker reports (Metadata v2+); raises if the broker does not answer."""
    admin = admin_client(settings)
    try:
        await admin.start()
        return str((await admin.describe_cluster()).get("cluster_id") or "")
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

    async def reset_producer(self, *, broker_down: bool = True) -> None:
        """Drop a producer whose sends fail, so the next use reconnects (and re-creates topics).
        ``broker_down=False``: the broker answers, but the producer's view of it (partition
        counts) is stale, as after the broker lost its topics."""
        async with self._lock:
            producer, self._producer = self._producer, None
        if broker_down:
            self.metrics.broker_up.labels(self.service).set(0)
        if producer is not None:
            await stop_quietly(producer)

    async def close(self) -> None:
        await self.reset_producer()


class StoppableClient(Protocol):
    """An aiokafka producer, consumer or other client that stops with ``await client.stop()``."""

    async def stop(self) -> None: ...


async def stop_quietly(client: StoppableClient) -> None:
    try:
        async with asyncio.timeout(2):
            await client.stop()
    except asyncio.CancelledError:
        # A group-less aiokafka consumer awaits a task it has just cancelled when it stops, and
        # that cancellation escapes; only a cancellation of the caller itself is passed on.
        if cancelling_current_task():
            raise
    except Exception:  # noqa: BLE001 - best effort on a client that never connected
        pass
