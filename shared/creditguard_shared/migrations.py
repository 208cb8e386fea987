"""Alembic glue: each service keeps its own migration tree inside its package and runs it with
the async engine for its URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
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
