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
    )
    Index(
        "ix_outbox_events_unpublished",
        outbox.c.seq,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(outbox=outbox, processed_events=processed_events)
