"""Finds the published events a broker no longer holds, so the relay can publish them again.

A broker can lose acknowledged events: the local tansu broker keeps everything in memory and
forgets it when it stops; an Apache Kafka cluster can lose unreplicated data, be rebuilt, or be
replaced by another one behind the same address. The outbox keeps every published event for its
retention with the partition and offset the broker acknowledged. An event is proven kept only
when the broker still answers it at that position: reading it back is the proof, because the
partition's end offset alone cannot tell a re-created topic that other producers refilled from
the original one (and tansu reports a partition's end as its last record batch's base offset
plus one, below offsets it holds).

Logs only lose a suffix (truncation, or everything when a topic or the broker is new), so within a
partition the kept rows are a prefix by offset; the first lost one is found by bisection and it
and every row after it are queued again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError

from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.kafka import admin_client, ensure_topics, stop_quietly
from creditguard_shared.outbox import PublishedPosition
from creditguard_shared.settings import KafkaSettings

logger = logging.getLogger(__name__)

Partition = tuple[str, int]
# How long one round of read-backs waits for partitions that hold nothing at the asked offset.
READ_BACK_WAIT_SECONDS = 1.0


@dataclass
class BrokerView:
    """What the broker says now: its cluster id, its topics' partition counts and end offsets."""

    cluster_id: str
    partitions: dict[str, int]
    end_offsets: dict[Partition, int] = field(default_factory=dict)


@dataclass
class Suspicion:
    """Why a partition's published rows must be read back, and which row to read first."""

    position: PublishedPosition
    reason: str


async def look_at_broker(settings: KafkaSettings, topics: Iterable[str]) -> BrokerView:
    """Cluster id and partitions of every topic (listed, never named: naming a missing topic in a
    metadata request lets a broker auto-create it), then the end offsets of ``topics``. A
    missing topic among them is created with the catalogue's settings first."""
    admin = admin_client(settings)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(None) if not t.get("error_code")}
    finally:
        await admin.close()
    view = BrokerView(cluster_id=str(cluster.get("cluster_id") or ""), partitions=described)
    wanted = sorted(set(topics))
    if any(topic not in described for topic in wanted):
        await ensure_topics(settings)
    present = [TopicPartition(topic, p) for topic in wanted if topic in described for p in range(described[topic])]
    if present:
        consumer = _reader(settings)
        try:
            await consumer.start()
            ends = await consumer.end_offsets(present)
        finally:
            await stop_quietly(consumer)
        view.end_offsets = {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    return view


def suspicions(
    positions: list[PublishedPosition],
    view: BrokerView,
    *,
    previous_cluster_id: str | None,
    verified: dict[Partition, tuple[int, int]],
    everything: bool,
    went_backwards: Mapping[Partition, PublishedPosition] | None = None,
) -> tuple[list[Suspicion], list[Suspicion]]:
    """Sorts each partition's highest published row into (gone for sure, to read back). Gone: the
    topic or partition does not exist. To read back: the cluster id changed, ``everything`` was
    asked for (start-up, a produce error, an offset that went backwards), or the broker's end
    offset is not above the row's offset and that was not read back at this end offset before.
    ``went_backwards``: per partition, the highest row before the broker answered a lower offset
    there; that row is read back instead of the highest, since rows published to the re-created
    log may sit above it and be held."""
    cluster_changed = previous_cluster_id is not None and view.cluster_id != previous_cluster_id
    went_backwards = went_backwards or {}
    gone: list[Suspicion] = []
    to_read: list[Suspicion] = []
    for position in positions:
        key = (position.topic, position.partition)
        if position.topic not in view.partitions:
            gone.append(Suspicion(position, "topic-missing"))
        elif position.partition >= view.partitions[position.topic]:
            gone.append(Suspicion(position, "partition-missing"))
        elif key in went_backwards:
            to_read.append(Suspicion(went_backwards[key], "offset-went-backwards"))
        elif cluster_changed:
            to_read.append(Suspicion(position, "cluster-changed"))
        elif everything:
            to_read.append(Suspicion(position, "read-back"))
        else:
            end = view.end_offsets.get(key, 0)
            if end <= position.offset and verified.get(key) != (position.offset, end):
                to_read.append(Suspicion(position, "end-offset-below"))
    return gone, to_read


class ReadBack:
    """A group-less consumer that reads single records at given offsets, many partitions at once."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.consumer = _reader(settings)

    async def __aenter__(self) -> ReadBack:
        try:
            await self.consumer.start()
        except BaseException:
            await stop_quietly(self.consumer)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop_quietly(self.consumer)

    async def holds(self, wanted: dict[Partition, PublishedPosition]) -> dict[Partition, bool]:
        """For each partition: does the broker still hold this row's event at its offset?"""
        if not wanted:
            return {}
        partitions = {key: TopicPartition(*key) for key in wanted}
        self.consumer.assign(list(partitions.values()))
        for key, position in wanted.items():
            self.consumer.seek(partitions[key], position.offset)
        answers: dict[Partition, bool] = {}
        waiting = dict(partitions)
        deadline = asyncio.get_running_loop().time() + READ_BACK_WAIT_SECONDS
        while waiting and asyncio.get_running_loop().time() < deadline:
            try:
                batch = await self.consumer.getmany(*waiting.values(), timeout_ms=200, max_records=len(waiting) * 50)
            except OffsetOutOfRangeError as exc:
                # Beyond the log's end (nothing there), or before its start (removed by the topic's
                # retention, which is the broker keeping its promise, not losing data).
                out_of_range = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
                beginnings = await self.consumer.beginning_offsets(list(out_of_range)) if out_of_range else {}
                for tp in out_of_range:
                    key = (tp.topic, tp.partition)
                    answers[key] = wanted[key].offset < beginnings.get(tp, 0)
                    waiting.pop(key, None)
                if not out_of_range:
                    raise
                continue
            for tp, records in batch.items():
                key = (tp.topic, tp.partition)
                if key not in waiting or not records:
                    continue
                first = records[0]
                answers[key] = first.offset == wanted[key].offset and _event_id(first.value) == wanted[key].event_id
                waiting.pop(key)
            for key, tp in list(waiting.items()):
                if self.consumer.highwater(tp) == 0:  # the partition is empty: nothing to wait for
                    answers[key] = False
                    waiting.pop(key)
        for key in waiting:
            answers[key] = False
        self.consumer.unsubscribe()
        return answers

    async def first_lost_in(self, rows_by_partition: dict[Partition, list[PublishedPosition]]) -> dict[Partition, int]:
        return await first_lost(self, rows_by_partition)


async def first_lost(read_back: ReadBack, rows_by_partition: dict[Partition, list[PublishedPosition]]) -> dict[Partition, int]:
    """For each partition whose rows (by offset) the broker no longer all holds: the index of the
    first row it lost. Kept rows form a prefix, so each round reads one row per partition; the
    first round reads the lowest, as a broker that restarted empty lost them all."""
    rows_by_partition = {key: rows for key, rows in rows_by_partition.items() if rows}
    low = dict.fromkeys(rows_by_partition, 0)  # rows before low are known kept
    high = {key: len(rows) for key, rows in rows_by_partition.items()}  # rows from high on are known lost
    lowest = await read_back.holds({key: rows[0] for key, rows in rows_by_partition.items()})
    for key, held in lowest.items():
        if held:
            low[key] = 1
        else:
            high[key] = 0
    while True:
        probes = {key: (low[key] + high[key]) // 2 for key in rows_by_partition if low[key] < high[key]}
        if not probes:
            return low
        answers = await read_back.holds({key: rows_by_partition[key][index] for key, index in probes.items()})
        for key, index in probes.items():
            if answers[key]:
                low[key] = index + 1
            else:
                high[key] = index


def _reader(settings: KafkaSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        fetch_max_wait_ms=100,
        request_timeout_ms=settings.request_timeout_ms,
        client_id="creditguard-outbox-audit",
    )


def _event_id(value: bytes | None) -> str | None:
    try:
        return EventEnvelope.from_bytes(value or b"").id
    except Exception:  # noqa: BLE001 - someone else's record at that offset: not ours
        return None
