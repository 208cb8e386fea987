"""The outbox and processed-event tables each service keeps in its own database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, text


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed_events: Table


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox_events",
        metadata,
        # Publication order; BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", Text, nullable=False),
        Column("correlation_id", String(64)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        # Where the broker acknowledged the event (null until published, or when it was not told):
        # a broker that lost data is found by reading these positions back (see broker_audit).
        Column("broker_partition", Integer),
        Column("broker_offset", BigInteger),
        # Set when a published event is queued again (a broker lost it, or an operator replays it):
        # the backlog's age counts from here, not from the event's creation days ago.
        Column("requeued_at", DateTime(timezone=True)),
    )
    Index(
        "ix_outbox_events_unpublished",
        outbox.c.seq,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    # Pruning (published rows past the retention) and replays by time range.
    Index("ix_outbox_events_created_at", outbox.c.created_at)
    # Re-queueing what a partition lost: the rows at or above a given offset of one partition.
    Index("ix_outbox_events_broker_position", outbox.c.topic, outbox.c.broker_partition, outbox.c.broker_offset)
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(outbox=outbox, processed_events=processed_events)
