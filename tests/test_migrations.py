"""Each service's Alembic tree builds its schema on both databases and matches its models."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from creditguard_shared.database import create_engine
from tests.fixtures.services import migrate


@pytest.mark.parametrize("service", ["scoring", "limits", "alerts"])
async def test_migrations_match_models(service, databases):
    url = await databases.create(service)
    await migrate(service, url)
    importlib.import_module(f"creditguard_{service}.models").load_all_models()
    metadata = importlib.import_module(f"creditguard_{service}.database").Base.metadata
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata))
    finally:
        await engine.dispose()
    assert differences == [], f"models and migrations differ for {service}: {differences}"
    # Migrating again is a no-op.
    await migrate(service, url)
    await asyncio.sleep(0)
