"""A broker that loses what it acknowledged: the local tansu broker keeps everything in memory, so
killing it (or stopping it) loses every event, topic and committed offset it held. The services
find out by reading back what they published and publish it again from their outboxes; the
consumers' processed-event ids make the repeats harmless. Real services, the real broker; the
losses and the pruning on both databases, the checks whose SQL is the same on both (a refilled
topic, readiness, replay) on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from sqlalchemy import func, select

from creditguard_local.stack import Broker
from creditguard_shared.kafka import ensure_topics
from creditguard_shared.replay_cli import main as replay_main
from creditguard_shared.settings import KafkaSettings
from creditguard_shared.unit_of_work import UnitOfWork
from tests.kafka_tools import publish_raw

# The tests stop and restart the ``broker`` fixture's broker: it is fresh per test, and
# ``start_service`` depends on it, so the services stop before it does at teardown (a broker
# stopped under live connections drains them for seconds).
# Quick checks so a loss is found within a second or two.
FAST = {"broker_check_interval_seconds": 0.5}
INVOICE_AMOUNT = Decimal("1000.00")
PAYMENT_AMOUNT = Decimal("400.00")


def kill(broker: Broker) -> None:
    """As a crash or a power cut would stop it: no chance to drain its connections."""
    assert broker.process is not None
    broker.process.kill()
    broker.process.wait()
    broker.process = None


class DocumentStream:
    """Invoices, and a payment for every other one, posted to limits through its REST API, spread
    over a few buyers; remembers what each consumer must end up with."""

    def __init__(self, limits, *, buyers: int = 4) -> None:
        self.limits = limits
        self.run_id = uuid.uuid4().hex[:6]
        self.buyers = [f"B-{self.run_id}-{i}" for i in range(buyers)]
        self.invoices: dict[str, list[str]] = {b: [] for b in self.buyers}
        self.paid: set[str] = set()
        self.posted = 0

    async def post(self, count: int, *, pause: float = 0.0) -> None:
        for _ in range(count):
            n = self.posted
            self.posted += 1
            buyer = self.buyers[n % len(self.buyers)]
            invoice_id = f"{buyer}-INV{n}"
            body = {
                "invoice_id": invoice_id,
                "buyer_id": buyer,
                "amount": str(INVOICE_AMOUNT),
                "currency": "EUR",
                "issued_on": "2026-10-01",
                "due_on": "2026-12-31",
            }
            response = await self.limits.client.post("/v1/invoices", json=body, headers=self.limits.auth("erp"))
            assert response.status_code == 201, response.text
            self.invoices[buyer].append(invoice_id)
            if n % 2 == 0:
                payment = {
                    "payment_id": f"{invoice_id}-P",
                    "buyer_id": buyer,
                    "invoice_id": invoice_id,
                    "amount": str(PAYMENT_AMOUNT),
                    "currency": "EUR",
                    "paid_on": "2026-10-15",
                }
                response = await self.limits.client.post("/v1/payments", json=payment, headers=self.limits.auth("erp"))
                assert response.status_code == 201, response.text
                self.paid.add(invoice_id)
            if pause:
                await asyncio.sleep(pause)

    def open_amount(self, buyer: str) -> Decimal:
        return sum((INVOICE_AMOUNT - (PAYMENT_AMOUNT if i in self.paid else 0) for i in self.invoices[buyer]), Decimal("0"))

    async def scoring_has_everything_once(self, scoring) -> None:
        for buyer in self.buyers:
            body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
            assert body.get("invoices_total") == len(self.invoices[buyer]), (buyer, body)
            # A payment applied twice would show here as a lower open amount.
            assert Decimal(body["open_amount"]) == self.open_amount(buyer), (buyer, body)

    async def alerts_have_everything_once(self, alerts) -> None:
        for buyer in self.buyers:
            receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
            assert sorted(r["invoice_id"] for r in receivables) == sorted(self.invoices[buyer]), (buyer, receivables)
            for receivable in receivables:
                expected = INVOICE_AMOUNT - (PAYMENT_AMOUNT if receivable["invoice_id"] in self.paid else 0)
                assert Decimal(receivable["open_amount"]) == expected, receivable

    @property
    def events_per_consumer(self) -> int:
        return self.posted + len(self.paid)


async def processed_event_count(service, topics: tuple[str, ...] = ("invoice-posted", "payment-received")) -> dict[str, int]:
    """Processed-event rows per consumer group: one per event it applied, whatever it was sent."""
    table = service.runtime.relay.tables.processed_events
    async with service.runtime.session_factory() as session:
        rows = (await session.execute(select(table.c.consumer, func.count()).where(table.c.topic.in_(topics)).group_by(table.c.consumer))).all()
    return dict(rows)


async def start_three(start_service, databases, broker, **overrides):
    services = {}
    for name in ("limits", "scoring", "alerts"):
        services[name] = await start_service(
            name, database_url=await databases.create(name), bootstrap_servers=broker.bootstrap_servers, **{**FAST, **overrides.get(name, {})}
        )
    return services


async def test_broker_killed_mid_stream_loses_no_document(start_service, databases, broker, eventually):
    services = await start_three(start_service, databases, broker)
    limits, scoring, alerts = services["limits"], services["scoring"], services["alerts"]
    stream = DocumentStream(limits)

    await stream.post(12)
    # The broker has acknowledged the first documents (scoring read them) when it dies.
    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=60, interval=0.1)
    kill(broker)
    await stream.post(8, pause=0.05)  # posted while nothing listens: they wait in the outbox
    broker.start()  # same port, empty: every topic, event and committed offset is gone
    await stream.post(12, pause=0.02)

    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=60, interval=0.5)
    await eventually(lambda: stream.alerts_have_everything_once(alerts), timeout=60, interval=0.5)
    assert (
        limits.metric("creditguard_broker_data_loss_detected_total", reason="read-back")
        + sum(
            limits.metric("creditguard_broker_data_loss_detected_total", reason=r)
            for r in ("topic-missing", "partition-missing", "end-offset-below", "cluster-changed", "offset-went-backwards")
        )
        >= 1
    )
    assert limits.metric("creditguard_events_republished_total", reason="broker-loss") >= 1
    # Every invoice and payment applied once by each consumer group that reads them.
    assert (await processed_event_count(scoring)) == {"scoring-payment-behaviour": stream.events_per_consumer}
    assert (await processed_event_count(alerts))["alerts-receivables"] == stream.events_per_consumer


async def test_broker_restarted_empty_after_the_stream_refills_a_consumer_that_was_away(start_service, databases, broker, eventually):
    """Alerts is down while the documents flow; then the broker restarts empty. When alerts comes
    back, the events it never read exist only in limits' outbox: limits must find the loss by
    itself (no new document arrives to provoke a produce) and publish them again."""
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, **FAST)
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, **FAST)
    stream = DocumentStream(limits)
    await stream.post(16)
    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=30, interval=0.3)

    broker.stop()
    broker.start()

    async def republished():
        assert limits.metric("creditguard_events_republished_total", reason="broker-loss") >= stream.events_per_consumer
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await eventually(republished, timeout=30, interval=0.3)
    details = (await limits.client.get("/health/details")).json()
    assert details["outbox"]["last_broker_loss"]["events_requeued"] >= stream.events_per_consumer, details

    alerts = await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, **FAST)
    await eventually(lambda: stream.alerts_have_everything_once(alerts), timeout=60, interval=0.5)
    # Scoring was sent everything a second time and applied none of it again.
    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=30, interval=0.3)
    assert (await processed_event_count(scoring)) == {"scoring-payment-behaviour": stream.events_per_consumer}
    assert (await processed_event_count(alerts))["alerts-receivables"] == stream.events_per_consumer


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_a_topic_refilled_by_other_producers_is_not_taken_for_the_original(start_service, databases, broker, eventually):
    """After the broker restarted empty, an ERP writes to the re-created topics past the offsets
    limits had recorded: the end offsets alone would say "kept". Reading back finds other events
    at those offsets, and limits publishes its own again. The test drives limits' relay itself
    (no relay task), so the read-back under test is the one that finds the loss."""
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, relay_enabled=False)
    relay = limits.runtime.relay
    stream = DocumentStream(limits, buyers=3)
    await stream.post(9)

    async def publish_everything() -> None:
        while await relay.publish_pending():
            pass
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await eventually(publish_everything, timeout=30, interval=0.2)
    async with limits.runtime.session_factory() as session:
        published = (await session.execute(select(func.count()).select_from(relay.tables.outbox))).scalar_one()
    assert await relay.find_and_requeue_lost_events(everything=True) == 0

    kill(broker)
    broker.start()
    await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
    erp_buyer = f"B-ERP-{stream.run_id}"
    foreign = [(f"{erp_buyer}-{p}".encode(), f"foreign {i}".encode(), []) for i in range(20) for p in range(6)]
    for topic in ("invoice-posted", "payment-received"):
        await publish_raw(broker.bootstrap_servers, topic, foreign)
    # Everything limits published was lost, also on the topics nobody refilled.
    assert await relay.find_and_requeue_lost_events(everything=True) == published
    assert relay.last_loss is not None and relay.last_loss["events_requeued"] == published

    await eventually(publish_everything, timeout=30, interval=0.2)
    alerts = await start_service("alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, **FAST)
    await eventually(lambda: stream.alerts_have_everything_once(alerts), timeout=60, interval=0.5)
    assert (await processed_event_count(alerts))["alerts-receivables"] == stream.events_per_consumer
    # Once published again, everything reads back as held.
    assert await relay.find_and_requeue_lost_events(everything=True) == 0


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_offsets_gone_backwards_are_read_back_although_newer_rows_sit_above_them(start_service, databases, broker, eventually):
    """The broker restarts empty and limits' own new events climb past the offsets it had
    recorded before any check ran: each partition's highest row is then a new one, which the
    broker holds. The relay saw the offsets go backwards as it published, and the check reads
    back the row from before, which the broker lost. The test drives the relay itself."""
    # No consumers: nothing asks the restarted broker for the topics before they are re-created.
    limits = await start_service(
        "limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, relay_enabled=False, consumers_enabled=False
    )
    relay = limits.runtime.relay
    stream = DocumentStream(limits, buyers=1)  # one buyer: each topic's events share one partition

    async def publish_everything() -> None:
        while await relay.publish_pending():
            pass
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await stream.post(3)  # 3 invoices, 2 payments
    await eventually(publish_everything, timeout=30, interval=0.2)
    assert await relay.find_and_requeue_lost_events(everything=True) == 0

    kill(broker)
    broker.start()
    # Re-created as they were (same partitions), so the buyer's events land where they did.
    await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
    await stream.post(8)  # 8 invoices, 4 payments: past the offsets the first ones had
    await eventually(publish_everything, timeout=30, interval=0.2)

    assert await relay.find_and_requeue_lost_events(everything=True) >= 5
    assert limits.metric("creditguard_broker_data_loss_detected_total", reason="offset-went-backwards") >= 1
    # The first invoices and payments are published again, not only the topics nobody refilled.
    assert relay.last_loss is not None
    assert {"invoice-posted", "payment-received"} <= {partition.split("/")[0] for partition in relay.last_loss["partitions"]}
    await eventually(publish_everything, timeout=30, interval=0.2)
    assert await relay.find_and_requeue_lost_events(everything=True) == 0


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_readiness_stays_up_while_the_broker_is_down_and_the_backlog_shows(start_service, databases, broker, eventually):
    """Alerts runs here as an API-only replica (no consumers), so its groups' lag can only grow."""
    services = await start_three(start_service, databases, broker, alerts={"consumers_enabled": False})
    limits, scoring, alerts = services["limits"], services["scoring"], services["alerts"]
    stream = DocumentStream(limits)
    await stream.post(4)
    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=30, interval=0.3)

    kill(broker)
    await stream.post(6)

    async def outage_visible():
        for service in services.values():
            assert service.metric("creditguard_broker_connected") == 0, service.name
            ready = await service.client.get("/health/ready")
            assert ready.status_code == 200, (service.name, ready.text)
            details = (await service.client.get("/health/details")).json()
            assert details["broker"]["connected"] is False, details
            assert details["database"]["ok"] is True
        assert limits.metric("creditguard_outbox_pending_events") >= 6
        details = (await limits.client.get("/health/details")).json()
        assert details["outbox"]["pending"] >= 6 and details["outbox"]["oldest_pending_age_seconds"] > 0, details
        return limits.metric("creditguard_outbox_oldest_pending_age_seconds")

    first_age = await eventually(outage_visible, timeout=30, interval=0.3)

    async def backlog_ages():
        assert limits.metric("creditguard_outbox_oldest_pending_age_seconds") > first_age

    await eventually(backlog_ages, timeout=10, interval=0.3)
    # Writes and reads keep working through the outage.
    assert (await scoring.client.get(f"/v1/buyers/{stream.buyers[0]}/payment-behaviour", headers=scoring.auth("sales"))).status_code == 200

    broker.start()

    async def recovered():
        assert limits.metric("creditguard_broker_connected") == 1
        assert limits.metric("creditguard_outbox_pending_events") == 0
        assert limits.metric("creditguard_outbox_last_publish_timestamp_seconds") > 0
        await stream.scoring_has_everything_once(scoring)
        # Nobody consumes for alerts' groups: their lag is every invoice published since the restart.
        assert alerts.metric("creditguard_consumer_group_lag_messages", group="creditguard-alerts-receivables", topic="invoice-posted") > 0
        details = (await alerts.client.get("/health/details")).json()
        assert details["consumer_lag"]["creditguard-alerts-receivables"]["invoice-posted"] > 0, details

    await eventually(recovered, timeout=60, interval=0.5)


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_replay_republishes_and_consumers_apply_nothing_twice(start_service, databases, broker, eventually, tmp_path):
    services = await start_three(start_service, databases, broker)
    limits, scoring, alerts = services["limits"], services["scoring"], services["alerts"]
    stream = DocumentStream(limits, buyers=2)
    await stream.post(6)
    await eventually(lambda: stream.scoring_has_everything_once(scoring), timeout=30, interval=0.3)
    await eventually(lambda: stream.alerts_have_everything_once(alerts), timeout=30, interval=0.3)
    buyer = stream.buyers[0]
    duplicates_before = scoring.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="duplicate")

    forbidden = await limits.client.post("/admin/replay", json={"buyer_id": buyer}, headers=limits.auth("credit_manager"))
    assert forbidden.status_code == 403
    unknown = await limits.client.post("/admin/replay", json={"topic": "no-such-topic"}, headers=limits.auth("admin"))
    assert unknown.status_code == 422

    response = await limits.client.post("/admin/replay", json={"buyer_id": buyer, "topic": "invoice-posted"}, headers=limits.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json() == {"requeued": len(stream.invoices[buyer]), "by_topic": {"invoice-posted": len(stream.invoices[buyer])}}

    async def delivered_again_as_duplicates():
        assert scoring.metric("creditguard_events_consumed_total", topic="invoice-posted", outcome="duplicate") >= duplicates_before + len(
            stream.invoices[buyer]
        )
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await eventually(delivered_again_as_duplicates, timeout=30, interval=0.3)

    # The command, straight on the database (as when the service is down): everything since the start.
    database_url = str(limits.runtime.engine.url.render_as_string(hide_password=False))
    assert await asyncio.to_thread(replay_main, ["--service", "limits", "--database-url", database_url, "--since", "2000-01-01T00:00:00Z"]) == 0
    republished = limits.metric("creditguard_events_published_total", topic="payment-received")

    async def payments_published_again():
        limits.runtime.relay.wake()
        assert limits.metric("creditguard_events_published_total", topic="payment-received") >= republished + len(stream.paid)
        assert limits.metric("creditguard_outbox_pending_events") == 0

    await eventually(payments_published_again, timeout=30, interval=0.3)
    await asyncio.sleep(1.0)  # the consumers' side of the repeat
    await stream.scoring_has_everything_once(scoring)
    await stream.alerts_have_everything_once(alerts)
    assert (await processed_event_count(scoring)) == {"scoring-payment-behaviour": stream.events_per_consumer}


# The database plays no part here: one backend is enough.
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_topics_are_created_with_the_catalogue_settings_and_a_mismatch_is_reported(start_service, databases, tmp_path, eventually):
    broker = Broker(log_path=tmp_path / "bare-broker.log")  # no topics: the service creates them
    broker.start()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        await admin.start()
        try:
            # Created by hand with too few partitions, as an auto-creating broker would.
            await admin.create_topics([NewTopic("limit-changed", 2, 1)])
            scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, **FAST)

            async def reported():
                details = (await scoring.client.get("/health/details")).json()
                assert any("limit-changed has 2 partitions" in m for m in details["broker"]["topic_mismatches"]), details
                assert scoring.metric("creditguard_topic_mismatches") >= 1

            await eventually(reported, timeout=30, interval=0.3)
            described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(None)}
            assert described["invoice-posted"] == 6 and described["invoice-posted.dlq"] == 1
            assert described["limit-changed"] == 2  # reported, not changed
            configs = (await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "score-changed")]))[0].to_object()
            entries = {e["config_names"]: e["config_value"] for e in configs["resources"][0]["config_entries"]}
            assert entries["cleanup.policy"] == "delete" and int(entries["retention.ms"]) == 14 * 24 * 3600 * 1000
        finally:
            await admin.close()
    finally:
        broker.stop()


async def test_published_events_are_kept_for_the_retention_then_pruned(start_service, databases, broker, eventually):
    # A retention of about a second; the relay is driven by hand so nothing prunes behind the test's back.
    limits = await start_service(
        "limits",
        database_url=await databases.create("limits"),
        bootstrap_servers=broker.bootstrap_servers,
        relay_enabled=False,
        consumers_enabled=False,
        outbox_retention_days=1.5 / 86400,
    )
    relay = limits.runtime.relay
    outbox = relay.tables.outbox
    stream = DocumentStream(limits, buyers=2)
    await stream.post(4)
    while await relay.publish_pending():
        pass

    async def rows() -> list:
        async with limits.runtime.session_factory() as session:
            return (await session.execute(select(outbox.c.published_at, outbox.c.broker_partition, outbox.c.broker_offset))).all()

    published = await rows()
    assert published and all(at is not None and partition is not None and offset is not None for at, partition, offset in published)
    assert await relay.prune() == 0  # younger than the retention: kept, with their positions
    await asyncio.sleep(1.6)
    await stream.post(1)  # pending: never pruned, however old it gets
    pending = len(await rows()) - len(published)
    assert await relay.prune() == len(published)
    assert [at for at, _, _ in await rows()] == [None] * pending
    assert limits.metric("creditguard_outbox_pruned_total") == len(published)


async def test_a_consumer_reads_again_what_an_emptied_broker_refilled_below_its_position(
    broker: Broker, tmp_path: Path, eventually: Callable[..., Awaitable[None]]
) -> None:
    """A consumer that held its position through the broker's restart (its partition paused, as a
    fetch in flight would) finds the broker refilled past that position by other producers. Before
    its next commit it asks the broker for the offsets it committed, finds them forgotten, and
    reads the partition again from the start: nothing refilled below its old position is skipped."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from creditguard_shared.consumer import EventConsumer, Subscription
    from creditguard_shared.events.contracts import InvoicePostedV1
    from creditguard_shared.events.envelope import EventEnvelope, new_event
    from creditguard_shared.kafka import KafkaConnection
    from creditguard_shared.metrics import ServiceMetrics
    from tests.test_unit_of_work import _unit_of_work_factory

    handled: list[str] = []

    async def record(uow: UnitOfWork, payload: InvoicePostedV1, envelope: EventEnvelope) -> None:
        handled.append(payload.invoice_id)

    async def post(invoice_ids: list[str]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
        await producer.start()
        try:
            for invoice_id in invoice_ids:
                payload = InvoicePostedV1(
                    invoice_id=invoice_id, buyer_id="B-1", amount=Decimal("10.00"), currency="EUR", issued_on="2026-11-01", due_on="2026-12-01"
                )
                envelope = new_event(source="/erp/test", payload=payload, subject="B-1")
                await producer.send_and_wait("invoice-posted", envelope.to_bytes(), key=b"B-1", partition=0)
        finally:
            await producer.stop()

    settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
    metrics = ServiceMetrics("scoring")
    uow_factories = _unit_of_work_factory(f"sqlite:///{tmp_path / 'consumer.db'}")
    new_uow = await anext(uow_factories)
    events = EventConsumer(
        name="refill-test",
        subscriptions=[Subscription("invoice-posted", record)],
        uow_factory=new_uow,
        kafka=KafkaConnection(settings=settings, service="scoring", metrics=metrics),
        settings=settings,
        metrics=metrics,
        service="scoring",
    )
    consumer = AIOKafkaConsumer(
        "invoice-posted", bootstrap_servers=broker.bootstrap_servers, group_id=events.group_id, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    consuming = asyncio.create_task(events._consume(consumer))
    partition = TopicPartition("invoice-posted", 0)

    async def committed(offset: int) -> None:
        assert events._committed.get(partition) == offset
        assert len(set(handled)) == len(handled), handled

    try:
        await post([f"OLD-{i}" for i in range(3)])
        await eventually(lambda: committed(3), timeout=20, interval=0.05)
        consumer.pause(partition)
        await asyncio.sleep(0.6)  # a fetch already under way ends (500 ms) and the next skips the partition

        kill(broker)
        broker.start()
        await ensure_topics(settings)
        await post([f"NEW-{i}" for i in range(5)])
        consumer.resume(partition)

        await eventually(lambda: committed(5), timeout=30, interval=0.1)
        assert sorted(handled) == [f"NEW-{i}" for i in range(5)] + [f"OLD-{i}" for i in range(3)]
        assert metrics.broker_data_loss.labels("scoring", "consumer-offsets-lost")._value.get() == 1
    finally:
        events.request_stop()
        await asyncio.wait_for(consuming, 10)
        await consumer.stop()
        await anext(uow_factories, None)
