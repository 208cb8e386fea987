"""Watches the broker from one service: whether it answers, whether its topics are as the
catalogue wants them, and how far behind this service's consumer groups are. The findings are
health details and metrics; none of them makes the service unready, since its API works without
the broker (events wait in the outbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from creditguard_shared.kafka import check_topics, describe_cluster, ensure_topics, stop_quietly
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.settings import KafkaSettings
from creditguard_shared.timing import raise_if_cancel_was_swallowed

logger = logging.getLogger(__name__)


@dataclass
class BrokerState:
    connected: bool | None = None  # None until the first probe
    cluster_id: str | None = None
    checked_at: datetime | None = None
    error: str | None = None
    topic_mismatches: list[str] = field(default_factory=list)
    # {group id: {topic: messages behind}}
    consumer_lag: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "connected": self.connected,
            "cluster_id": self.cluster_id,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "error": self.error,
            "topic_mismatches": self.topic_mismatches,
        }


class BrokerWatch:
    def __init__(
        self,
        *,
        service: str,
        settings: KafkaSettings,
        metrics: ServiceMetrics,
        groups: dict[str, list[str]],
        interval: float,
        on_broker_back: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        # Called when the broker answers again after it did not: what comes back may be another
        # broker, or the same one without its data (tansu keeps the same cluster id).
        self.on_broker_back = on_broker_back
        self.settings = settings
        self.metrics = metrics
        self.groups = groups
        self.interval = interval
        self.state = BrokerState()

    async def run(self) -> None:
        while True:
            try:
                await self.probe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed pass is retried at the next interval
                logger.warning("broker watch pass failed: %r", exc)
            raise_if_cancel_was_swallowed()
            await asyncio.sleep(self.interval)

    async def probe(self) -> BrokerState:
        timeout = max(self.settings.request_timeout_ms / 1000, 1.0) * 2
        state = self.state
        try:
            async with asyncio.timeout(timeout):
                cluster_id = await describe_cluster(self.settings)
        except Exception as exc:  # noqa: BLE001 - any failure means the broker does not answer
            was_connected = state.connected
            state.connected, state.error, state.checked_at = False, f"{exc.__class__.__name__}: {exc}"[:500], datetime.now(UTC)
            self.metrics.broker_up.labels(self.service).set(0)
            if was_connected is not False:
                logger.warning("broker %s does not answer (%s); events wait in the outbox", self.settings.bootstrap_servers, state.error)
            return state
        was_away = state.connected is False
        state.connected, state.cluster_id, state.error, state.checked_at = True, cluster_id, None, datetime.now(UTC)
        self.metrics.broker_up.labels(self.service).set(1)
        if was_away:
            logger.info("broker %s answers again", self.settings.bootstrap_servers)
            if self.on_broker_back is not None:
                self.on_broker_back()
        async with asyncio.timeout(timeout):
            mismatches = await check_topics(self.settings)
            if any(m.endswith(" is missing") for m in mismatches):
                # A new or emptied broker: create them now, before a client's metadata request
                # makes an auto-creating broker invent them with its own defaults.
                await ensure_topics(self.settings)
                mismatches = await check_topics(self.settings)
        if mismatches != state.topic_mismatches and mismatches:
            logger.error("the broker's topics differ from the catalogue: %s", "; ".join(mismatches))
        state.topic_mismatches = mismatches
        self.metrics.topic_mismatches.labels(self.service).set(len(mismatches))
        async with asyncio.timeout(timeout * max(len(self.groups), 1)):
            state.consumer_lag = {group: await self._group_lag(group, topics) for group, topics in self.groups.items()}
        for group, by_topic in state.consumer_lag.items():
            for topic, lag in by_topic.items():
                self.metrics.consumer_group_lag.labels(self.service, group, topic).set(lag)
        return state

    async def _group_lag(self, group: str, topics: list[str]) -> dict[str, int]:
        """Messages between the group's committed offsets (its beginning where it has none) and the
        partitions' ends: what the group has yet to process, whether or not its consumers run."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            request_timeout_ms=self.settings.request_timeout_ms,
            client_id=f"creditguard-{self.service}-lag",
        )
        try:
            await consumer.start()
            existing = await consumer.topics()  # every topic's metadata: naming one could auto-create it
            partitions = [TopicPartition(t, p) for t in topics if t in existing for p in sorted(consumer.partitions_for_topic(t) or ())]
            if not partitions:
                return {}
            ends = await consumer.end_offsets(partitions)
            beginnings = await consumer.beginning_offsets(partitions)
            lag: dict[str, int] = {t: 0 for t in topics if t in existing}
            for tp in partitions:
                committed = await consumer.committed(tp)
                position = committed if committed is not None else beginnings[tp]
                lag[tp.topic] += max(ends[tp] - position, 0)
            return lag
        finally:
            await stop_quietly(consumer)
