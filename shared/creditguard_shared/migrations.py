"""Alembic glue: each service keeps its own migration tree inside its package and runs it with
the async engine for its URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, text
from sqlalchemy.engine import Connection

from creditguard_shared.database import create_engine, is_sqlite, normalise_database_url

MIGRATION_LOCK_KEY = 0x63676D67  # "cgmg": any constant shared by a service's replicas


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%"))
    return config


def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(migrations_dir, database_url), "head")


def run_env(metadata: MetaData) -> None:
    """Body of a service's ``env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic's sqlalchemy.url is not set: run migrations through upgrade_to_head or the service CLI")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=is_sqlite(url))
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(connection: Connection) -> None:
        if not is_sqlite(url):
            # Replicas that start together (Kubernetes init containers) migrate one after another.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=is_sqlite(url), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def _online() -> None:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(_online())


def sqlite_money_to_cents(columns: dict[str, tuple[str, ...]]) -> None:
    """In a migration: rewrite the money ``columns`` (table -> column names) of a SQLite database
    from the binary floats earlier revisions stored to whole cents (``database.Money``). PostgreSQL
    keeps NUMERIC and is left alone."""
    _rewrite_sqlite_money(columns, "CAST(ROUND({column} * 100) AS INTEGER)")


def sqlite_money_to_units(columns: dict[str, tuple[str, ...]]) -> None:
    """The downgrade of ``sqlite_money_to_cents``: back to amounts in units (floats again)."""
    _rewrite_sqlite_money(columns, "{column} / 100.0")


def _rewrite_sqlite_money(columns: dict[str, tuple[str, ...]], expression: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, names in columns.items():
        # Names come from the migration itself, never from input; NULL stays NULL.
        assignments = ", ".join(f"{name} = {expression.format(column=name)}" for name in names)
        bind.execute(text(f"UPDATE {table} SET {assignments}"))


def outbox_keeps_broker_positions() -> None:
    """The shared outbox table (messaging_tables.py) becomes the log: published rows keep the
    partition and offset the broker acknowledged (read back to find a broker's losses) and when
    they were queued again; pruning and replays select by creation time. One step for every
    service's migration, because the table is defined once for all of them."""
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(Column("broker_partition", Integer(), nullable=True))
        batch_op.add_column(Column("broker_offset", BigInteger(), nullable=True))
        batch_op.add_column(Column("requeued_at", DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_events_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_outbox_events_broker_position", ["topic", "broker_partition", "broker_offset"], unique=False)


def outbox_forgets_broker_positions() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_broker_position")
        batch_op.drop_index("ix_outbox_events_created_at")
        batch_op.drop_column("requeued_at")
        batch_op.drop_column("broker_offset")
        batch_op.drop_column("broker_partition")
