"""Raw Kafka access for tests: read a topic from the beginning, publish bytes as an ERP would."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from creditguard_shared.events.catalogue import topic_for
from creditguard_shared.events.contracts import EventPayload
from creditguard_shared.events.envelope import EventEnvelope, new_event


async def read_topic(bootstrap_servers: str, topic: str) -> list[ConsumerRecord]:
    """Every message currently in ``topic`` (all partitions), without joining a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer.topics()  # fetches fresh metadata for every topic
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or set())]
        assert partitions, f"topic {topic} does not exist"
        consumer.assign(partitions)
        beginnings = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, beginnings[tp])
        records: list[ConsumerRecord] = []
        # Read at least to the end offsets, then until a fetch comes back empty: tansu answers the
        # end offset of a partition as the last record batch's base offset + 1, so after one batch
        # of three records it says 1 where Kafka says 3, and stopping there would drop two.
        while True:
            batch = await consumer.getmany(*partitions, timeout_ms=300)
            for messages in batch.values():
                records.extend(messages)
            if not batch and all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
                return records
    finally:
        await consumer.stop()


async def publish_raw(bootstrap_servers: str, topic: str, messages: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=False)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def publish_event(bootstrap_servers: str, payload: EventPayload, *, subject: str, source: str = "/erp/test") -> EventEnvelope:
    envelope = new_event(source=source, payload=payload, subject=subject)
    await publish_raw(bootstrap_servers, topic_for(type(payload)).name, [(subject.encode(), envelope.to_bytes(), [])])
    return envelope
