"""Each service's Alembic tree builds its schema on both databases and matches its models, and
turns the binary-float amounts earlier revisions stored on SQLite into exact whole cents."""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from creditguard_shared.database import Money, create_engine
from creditguard_shared.migrations import alembic_config
from creditguard_shared.schema_types import MAX_AMOUNT
from creditguard_shared.service_cli import migrations_dir
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


PREVIOUS_REVISION = {"limits": "0005", "scoring": "0004", "alerts": "0003"}
# As the earlier revisions stored them on SQLite: binary floats (0.29 is 0.28999..., 1000.0 an
# INTEGER by NUMERIC affinity), a negative figure as a statement may hold, the largest amount.
OLD_AMOUNTS = [Decimal("0.10"), Decimal("0.20"), Decimal("0.29"), Decimal("1000.00"), Decimal("-1234.57"), MAX_AMOUNT]


def _filler(declared_type: str, row: int) -> object:
    """A value of the column's declared type, different in every row (unique constraints)."""
    declared = declared_type.upper()
    if declared.startswith(("INT", "BIGINT", "SMALLINT")):
        return row + 1
    if declared.startswith(("FLOAT", "NUMERIC", "REAL", "DOUBLE")):
        return 0.5
    if declared == "BOOLEAN":
        return 0
    if declared == "DATE":
        return f"2026-01-{row + 1:02d}"
    if declared == "DATETIME":
        return f"2026-01-{row + 1:02d} 09:00:00.000000"
    if declared == "JSON":
        return "{}"
    return f"r{row}"


@pytest.mark.parametrize("service", ["scoring", "limits", "alerts"])
async def test_sqlite_amounts_stored_as_floats_come_out_exact_after_the_upgrade(service, tmp_path):
    path = tmp_path / f"{service}.db"
    url = f"sqlite:///{path}"
    config = alembic_config(migrations_dir(f"creditguard_{service}"), url)
    await asyncio.to_thread(command.upgrade, config, PREVIOUS_REVISION[service])
    importlib.import_module(f"creditguard_{service}.models").load_all_models()
    metadata = importlib.import_module(f"creditguard_{service}.database").Base.metadata
    money = {table.name: [c.name for c in table.columns if isinstance(c.type, Money)] for table in metadata.sorted_tables}
    money = {table: columns for table, columns in money.items() if columns}
    assert money, "the service has money columns"

    with sqlite3.connect(path) as connection:
        # Only what the previous revision had: later migrations add money columns and tables of their own.
        existing = {table: {name for _, name, *_ in connection.execute(f"PRAGMA table_info({table})")} for table in money}
        money = {table: [c for c in columns if c in existing[table]] for table, columns in money.items()}
        money = {table: columns for table, columns in money.items() if columns}
        for table, columns in money.items():
            described = connection.execute(f"PRAGMA table_info({table})").fetchall()
            names = [name for _, name, *_ in described]
            for row, amount in enumerate(OLD_AMOUNTS):
                values = [float(amount) if name in columns else _filler(declared, row) for _, name, declared, *_ in described]
                connection.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)
            assert {kind for (kind,) in connection.execute(f"SELECT typeof({columns[0]}) FROM {table}")} >= {"real"}

    await asyncio.to_thread(command.upgrade, config, "head")

    with sqlite3.connect(path) as connection:
        for table, columns in money.items():
            for column in columns:
                stored = connection.execute(f"SELECT typeof({column}), {column} FROM {table} ORDER BY rowid").fetchall()
                assert stored == [("integer", int(amount * 100)) for amount in OLD_AMOUNTS], (table, column, stored)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            for table, columns in money.items():
                model = metadata.tables[table]
                for column in columns:
                    read = (await connection.execute(select(model.c[column]).order_by(text("rowid")))).scalars().all()
                    assert read == OLD_AMOUNTS and all(str(value) == str(amount) for value, amount in zip(read, OLD_AMOUNTS, strict=True)), (
                        table,
                        column,
                        read,
                    )
    finally:
        await engine.dispose()

    # The downgrade gives the previous revision its amounts in units back.
    await asyncio.to_thread(command.downgrade, config, PREVIOUS_REVISION[service])
    with sqlite3.connect(path) as connection:
        for table, columns in money.items():
            for column in columns:
                values = [value for (value,) in connection.execute(f"SELECT {column} FROM {table} ORDER BY rowid")]
                assert values == [float(amount) for amount in OLD_AMOUNTS], (table, column, values)


async def test_limits_0008_splits_recorded_payments_into_applied_and_unapplied(databases):
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
            await connection.execute(
                text(
                    "INSERT INTO invoices (invoice_id, buyer_id, amount, currency, issued_on, due_on, open_amount, created_at, late_bucket_announced) "
                    "VALUES ('I1', 'B', 100.00, 'EUR', '2026-01-01', '2026-02-01', 0, '2026-01-01 00:00:00+00:00', 0)"
                )
            )
            await connection.execute(text("INSERT INTO credit_notes VALUES ('C1', 'B', 'I1', 30.00, 'EUR', '2026-01-05', '2026-01-05 00:00:00+00:00')"))
            await connection.execute(
                text(
                    "INSERT INTO payments (payment_id, buyer_id, invoice_id, amount, currency, paid_on, created_at) VALUES "
                    "('P2', 'B', 'I1', 50.00, 'EUR', '2026-01-10', '2026-01-10 00:00:00+00:00'), "
                    "('P1', 'B', 'I1', 40.00, 'EUR', '2026-01-09', '2026-01-09 00:00:00+00:00'), "
                    "('P3', 'B', 'I1', 5.10, 'EUR', '2026-01-11', '2026-01-11 00:00:00+00:00'), "
                    "('PX', 'B', 'IX', 7.00, 'EUR', '2026-01-01', '2026-01-01 00:00:00+00:00')"
                )
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            # Through the model's Money column: on SQLite the amounts are whole cents by now (0006).
            from creditguard_limits.models.ledger import Payment

            payments = Payment.__table__
            rows = (await connection.execute(select(payments.c.payment_id, payments.c.applied_amount).order_by(payments.c.payment_id))).all()
    finally:
        await engine.dispose()
    assert [(p, a) for p, a in rows] == [("P1", Decimal("40.00")), ("P2", Decimal("30.00")), ("P3", Decimal("0.00")), ("PX", None)]


async def test_alerts_0006_encrypts_plain_webhook_secrets_and_refuses_without_a_key(databases, monkeypatch):
    """Secrets stored in clear before 0006 come out as tokens that decrypt to the same secrets
    (so signatures do not change); without a key the upgrade stops with the plain column intact;
    the downgrade decrypts them back."""
    from creditguard_alerts.webhooks.secret_keys import WebhookSecretKeys, new_key

    url = await databases.create("alerts")
    config = alembic_config(migrations_dir("creditguard_alerts"), url)
    await asyncio.to_thread(command.upgrade, config, "0005")
    secrets = {"sub_a": "whsec_" + "A" * 44, "sub_b": "whsec_" + "B" * 44}
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for subscription_id, secret in secrets.items():
                await connection.execute(
                    text(
                        "INSERT INTO webhook_subscriptions (id, url, event_types, filter, secret, enabled, created_at, updated_at) "
                        "VALUES (:id, 'https://example.com/hooks', '[]', '{}', :secret, true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"id": subscription_id, "secret": secret},
                )
        monkeypatch.delenv("ALERTS_WEBHOOK_SECRET_KEYS", raising=False)
        with pytest.raises(RuntimeError, match="ALERTS_WEBHOOK_SECRET_KEYS is not set"):
            await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            assert dict((await connection.execute(text("SELECT id, secret FROM webhook_subscriptions"))).all()) == secrets

        key = new_key()
        monkeypatch.setenv("ALERTS_WEBHOOK_SECRET_KEYS", key)
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            stored = dict((await connection.execute(text("SELECT id, secret_encrypted FROM webhook_subscriptions"))).all())
        assert {k: WebhookSecretKeys([key]).decrypt(token) for k, token in stored.items()} == secrets
        assert not any(secret in token for secret in secrets.values() for token in stored.values())

        await asyncio.to_thread(command.downgrade, config, "0005")
        async with engine.connect() as connection:
            assert dict((await connection.execute(text("SELECT id, secret FROM webhook_subscriptions"))).all()) == secrets
    finally:
        await engine.dispose()
