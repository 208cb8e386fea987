"""Letting a simulated day's events reach every service before the day goes on.

The services tell each other what happened over Kafka (a payment closes a collection case in
alerts, which lifts the account's hold in limits, …), in seconds. A simulated day lasts a fraction
of a second of wall time, so without waiting, a few seconds of consumer lag on a busy machine
would be days of simulated time: orders of a buyer that paid would still be referred because its
hold had not been lifted yet, and the same book would come out differently depending on what else
the machine was doing. Real days are long enough for every event to arrive; ``EventFlow.settle``
waits, at the points of the day where a real day would have let events arrive, until every
service's outbox is empty and every consumer group has consumed everything published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

logger = logging.getLogger(__name__)

# How often the backlogs are read while waiting, and how long one wait may last before the day
# goes on regardless (counted in the report: a service that stopped consuming would otherwise
# stall the simulation). A 2,000-buyer book's daily jobs can leave minutes of backlog on a
# machine shared with other work: at 30 s 8 of a year's 732 waits ran out, at 120 s 2.
POLL_SECONDS = 0.02
SETTLE_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Backlog:
    """What the services have yet to do with the events: rows still in their outboxes, and, per
    consumer group, messages published but not yet consumed and committed."""

    outbox_pending: int
    consumer_lag: dict[str, int]

    @property
    def empty(self) -> bool:
        return self.outbox_pending == 0 and not any(self.consumer_lag.values())


def consumer_lag(*, ends: dict[TopicPartition, int], committed: dict[TopicPartition, int]) -> int:
    """Messages between a group's committed offsets and the partitions' ends; a partition the
    group has not committed on yet counts from its start (the broker keeps everything here)."""
    return sum(max(end - committed.get(tp, 0), 0) for tp, end in ends.items())


async def wait_until_settled(read_backlog: Callable[[], Awaitable[Backlog]], *, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
    """Until two readings in a row find nothing left to do (one could fall between a relay
    publishing an event and the broker counting it); False if ``timeout`` passed first."""
    deadline = asyncio.get_running_loop().time() + timeout
    empty_before = False
    while True:
        empty = (await read_backlog()).empty
        if empty and empty_before:
            return True
        empty_before = empty
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0 if empty else POLL_SECONDS)


class EventFlow:
    """The broker side of a backlog: each consumer group's lag on the topics it reads."""

    def __init__(self, *, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._partitions: dict[str, list[TopicPartition]] = {}
        # Each group's coordinator, asked once: otherwise every offset fetch asks again first.
        self._coordinators: dict[str, int] = {}

    async def _start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap_servers, client_id="creditguard-simulation-settle")
        await self._admin.start()
        self._offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap_servers, enable_auto_commit=False, client_id="creditguard-simulation-settle")
        await self._offsets.start()

    async def stop(self) -> None:
        if self._offsets is not None:
            await self._offsets.stop()
        if self._admin is not None:
            await self._admin.close()

    async def _topic_partitions(self, topics: list[str]) -> list[TopicPartition]:
        assert self._offsets is not None
        missing = [t for t in topics if t not in self._partitions]
        if missing:
            existing = await self._offsets.topics()  # metadata for every topic: naming one could auto-create it
            for topic in missing:
                if topic in existing:
                    self._partitions[topic] = [TopicPartition(topic, p) for p in sorted(self._offsets.partitions_for_topic(topic) or ())]
        return [tp for t in topics for tp in self._partitions.get(t, [])]

    async def _committed(self, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        assert self._admin is not None
        if group not in self._coordinators:
            self._coordinators[group] = await self._admin.find_coordinator(group)
        try:
            offsets = await self._admin.list_consumer_group_offsets(group, group_coordinator_id=self._coordinators[group], partitions=partitions)
        except Exception:
            self._coordinators.pop(group, None)  # it may have moved: asked again next time
            raise
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def lag(self, groups: dict[str, list[str]]) -> dict[str, int]:
        if self._admin is None:
            await self._start()
        assert self._offsets is not None
        partitions = {group: await self._topic_partitions(topics) for group, topics in groups.items()}
        ends, *committed = await asyncio.gather(
            self._offsets.end_offsets(sorted({tp for tps in partitions.values() for tp in tps})),
            *(self._committed(group, tps) for group, tps in partitions.items()),
        )
        return {
            group: consumer_lag(ends={tp: ends[tp] for tp in tps}, committed=group_committed)
            for (group, tps), group_committed in zip(partitions.items(), committed, strict=True)
        }
