"""Benchmark the alerts pipeline: ``payment-late`` published -> alert raised -> signed webhook received.

Usage (from the repo root)::

    .venv/bin/python bench/alerts_webhooks.py [--events 300] [--database sqlite|postgresql://...]

Starts a tansu broker on a free loopback port, the alerts service in-process (SQLite file by
default) and a webhook receiver on 127.0.0.1. Prints events processed per second end to end
(payment-late to webhook received) and the delay per event (p50, p95), and as a baseline
measured in the same run the ingestion rate of plain ``invoice-posted`` events (stored, no alert,
no webhook), with the ratio between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from creditguard_alerts.app import create_app
from creditguard_alerts.models.receivables import Receivable
from creditguard_alerts.settings import Settings
from creditguard_alerts.webhooks.secret_keys import new_key
from creditguard_local.stack import LOCAL_BROKER_FETCH_MAX_WAIT_MS, LOCAL_BROKER_HEARTBEAT_INTERVAL_MS, LOCAL_BROKER_SESSION_TIMEOUT_MS, Broker, create_topics
from creditguard_shared.auth.keys import Role, add_key
from creditguard_shared.clock import Clock
from creditguard_shared.events.catalogue import topic_for
from creditguard_shared.events.contracts import InvoicePostedV1, PaymentLateV1
from creditguard_shared.events.envelope import new_event
from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.service_cli import migrations_dir
from creditguard_shared.settings import KafkaSettings
from services.alerts.tests.receiver import start_receiver

DUE = date(2026, 10, 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def publish(producer: AIOKafkaProducer, payload, buyer: str) -> float:
    envelope = new_event(source="/bench", payload=payload, subject=buyer)
    await producer.send_and_wait(topic_for(type(payload)).name, value=envelope.to_bytes(), key=buyer.encode())
    return time.perf_counter()


async def wait_until(check, timeout: float = 300) -> None:
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the service did not keep up within the timeout")
        await asyncio.sleep(0.01)


async def run(events: int, database_url: str, workdir: Path) -> None:
    broker = Broker(log_path=workdir / "broker.log")
    broker.start()
    try:
        await asyncio.to_thread(create_topics, broker.bootstrap_servers)
        await asyncio.to_thread(upgrade_to_head, migrations_dir("creditguard_alerts"), database_url)
        keys_file = workdir / "keys.json"
        manager_key = add_key(keys_file, role=Role.CREDIT_MANAGER, name="bench")[0]
        settings = Settings(
            database_url=database_url,
            api_keys_file=str(keys_file),
            log_json=False,
            log_level="WARNING",
            kafka=KafkaSettings(
                bootstrap_servers=broker.bootstrap_servers,
                consumer_session_timeout_ms=LOCAL_BROKER_SESSION_TIMEOUT_MS,
                consumer_heartbeat_interval_ms=LOCAL_BROKER_HEARTBEAT_INTERVAL_MS,
                consumer_fetch_max_wait_ms=LOCAL_BROKER_FETCH_MAX_WAIT_MS,
            ),
            webhook_allowed_networks="127.0.0.0/8",
            webhook_dispatch_interval_seconds=0.05,
            outbox_poll_interval_seconds=0.1,
            sweep_interval_seconds=3600,
            webhook_secret_keys=new_key(),
        )
        app = create_app(settings, clock=Clock(fixed=datetime(2026, 10, 2, 9, tzinfo=UTC)))
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            receiver, server, task = await start_receiver()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://alerts.bench") as client:
                created = await client.post(
                    "/v1/webhooks/subscriptions",
                    headers={"Authorization": f"Bearer {manager_key}"},
                    json={"url": receiver.url, "event_types": ["alert.raised"]},
                )
                receiver.secret = created.json()["secret"]
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
            await producer.start()
            try:
                runtime = app.state.runtime

                async def stored(count: int) -> bool:
                    async with runtime.session_factory() as session:
                        return (await session.execute(select(func.count()).select_from(Receivable))).scalar_one() >= count

                # Warm-up: the consumer groups join and the first event of each kind is handled.
                warm = f"W-{uuid.uuid4().hex[:6]}"
                await publish(
                    producer,
                    InvoicePostedV1(
                        invoice_id=f"{warm}-1", buyer_id=warm, amount=Decimal("10.00"), currency="EUR", issued_on=date(2026, 9, 1), due_on=date(2026, 12, 31)
                    ),
                    warm,
                )
                await wait_until(lambda: stored(1), timeout=60)

                started = time.perf_counter()
                for i in range(events):
                    buyer = f"I-{i}-{uuid.uuid4().hex[:6]}"
                    await publish(
                        producer,
                        InvoicePostedV1(
                            invoice_id=f"{buyer}-1",
                            buyer_id=buyer,
                            amount=Decimal("1000.00"),
                            currency="EUR",
                            issued_on=date(2026, 9, 1),
                            due_on=date(2026, 12, 31),
                        ),
                        buyer,
                    )
                await wait_until(lambda: stored(events + 1))
                baseline_rate = events / (time.perf_counter() - started)

                published_at: dict[str, float] = {}
                started = time.perf_counter()
                for i in range(events):
                    buyer = f"L-{i}-{uuid.uuid4().hex[:6]}"
                    invoice_id = f"{buyer}-1"
                    published_at[invoice_id] = await publish(
                        producer,
                        PaymentLateV1(
                            invoice_id=invoice_id,
                            buyer_id=buyer,
                            days_past_due=1,
                            bucket=1,
                            open_amount=Decimal("1000.00"),
                            currency="EUR",
                            due_on=DUE,
                            as_of=date(2026, 10, 2),
                        ),
                        buyer,
                    )

                async def all_received() -> bool:
                    return len(receiver.accepted) >= events

                await wait_until(all_received)
                elapsed = max(r.at for r in receiver.accepted) - started
                delays = [r.at - published_at[r.payload["data"]["alert"]["invoice_id"]] for r in receiver.accepted]
            finally:
                await producer.stop()
                server.should_exit = True
                await task
        rate = events / elapsed
        print(f"events: {events} payment-late, database: {database_url.split(':', 1)[0]}")
        print(f"payment-late -> webhook received: {rate:.1f} events/s")
        print(f"delay payment-late published -> webhook received: p50 {percentile(delays, 0.5) * 1000:.0f} ms, p95 {percentile(delays, 0.95) * 1000:.0f} ms")
        print(f"baseline invoice-posted ingestion (stored only): {baseline_rate:.1f} events/s")
        print(f"ratio end-to-end / baseline: {rate / baseline_rate:.2f}")
        print(
            f"all webhooks verified: {all(r.verified for r in receiver.accepted)}, "
            f"duplicates: {len(receiver.accepted) - len({r.webhook_id for r in receiver.accepted})}"
        )
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--database", default=None, help="database URL (default: a SQLite file in a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        asyncio.run(run(args.events, args.database or f"sqlite+aiosqlite:///{workdir / 'alerts.db'}", workdir))


if __name__ == "__main__":
    main()
