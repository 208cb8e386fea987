"""Each service's Alembic tree builds its schema on both databases and matches its models."""

from __future__ import annotations

import asyncio
import importlib
from decimal import Decimal

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


async def test_limits_0007_splits_recorded_payments_into_applied_and_unapplied(databases):
    """Payments recorded before the split: each invoice's credit notes first, then its payments by
    date, each applied up to what is open; what used to vanish becomes unapplied cash, and a payment
    of an unknown invoice stays held."""
    from alembic import command
    from sqlalchemy import text

    from creditguard_shared.migrations import alembic_config
    from creditguard_shared.service_cli import migrations_dir

    url = await databases.create("limits")
    config = alembic_config(migrations_dir("creditguard_limits"), url)
    await asyncio.to_thread(command.upgrade, config, "0005")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO invoices (invoice_id, buyer_id, amount, currency, issued_on, due_on, open_amount, created_at, late_bucket_announced) "
                "VALUES ('I1', 'B', 100.00, 'EUR', '2026-01-01', '2026-02-01', 0, '2026-01-01 00:00:00+00:00', 0)"))
            await connection.execute(text("INSERT INTO credit_notes VALUES ('C1', 'B', 'I1', 30.00, 'EUR', '2026-01-05', '2026-01-05 00:00:00+00:00')"))
            await connection.execute(text(
                "INSERT INTO payments (payment_id, buyer_id, invoice_id, amount, currency, paid_on, created_at) VALUES "
                "('P2', 'B', 'I1', 50.00, 'EUR', '2026-01-10', '2026-01-10 00:00:00+00:00'), ('P1', 'B', 'I1', 40.00, 'EUR', '2026-01-09', '2026-01-09 00:00:00+00:00'), "
                "('P3', 'B', 'I1', 5.10, 'EUR', '2026-01-11', '2026-01-11 00:00:00+00:00'), ('PX', 'B', 'IX', 7.00, 'EUR', '2026-01-01', '2026-01-01 00:00:00+00:00')"))
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT payment_id, applied_amount FROM payments ORDER BY payment_id"))).all()
    finally:
        await engine.dispose()
    assert [(p, None if a is None else Decimal(str(a))) for p, a in rows] == [
        ("P1", Decimal("40.00")), ("P2", Decimal("30.00")), ("P3", Decimal("0.00")), ("PX", None)]
