"""Webhook deliveries survive a receiver outage (same webhook-id on every retry, nothing lost),
a subscription that keeps failing is disabled with an alert, unsafe targets are refused, and an
insurer deadline alert fires before the deadline and escalates when it is missed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from creditguard_local.stack import free_port
from creditguard_shared.events.contracts import InsuranceCoverChangedV1
from services.alerts.tests.events import assessed, eventually_known, invoice, late, new_buyer, publish_assessments
from tests.kafka_tools import publish_event


async def test_receiver_outage_loses_nothing_and_a_dead_target_is_disabled(alerts, receiver, broker, eventually):
    manager = alerts.auth("credit_manager")
    created = await alerts.client.post("/v1/webhooks/subscriptions", headers=manager, json={"url": receiver.url, "event_types": ["alert.raised"]})
    receiver.secret = created.json()["secret"]
    dead = await alerts.client.post(
        "/v1/webhooks/subscriptions", headers=manager, json={"url": f"http://127.0.0.1:{free_port()}/nobody-listens", "event_types": ["alert.raised"]}
    )
    assert dead.status_code == 201
    receiver.down = True
    buyers = [new_buyer() for _ in range(3)]
    await publish_assessments(alerts, broker.bootstrap_servers, *(assessed(b) for b in buyers))
    for buyer in buyers:
        await publish_event(broker.bootstrap_servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)

    async def refused_while_down():
        assert len(set(receiver.refused_ids)) == 3, receiver.refused_ids

    await eventually(refused_while_down)
    # Retries come with exponential backoff on the service clock: nothing more until it moves.
    alerts.clock.advance(timedelta(seconds=3))
    await alerts.client.post("/v1/webhooks/dispatch", headers=manager)
    receiver.down = False
    alerts.clock.advance(timedelta(hours=2))

    async def all_delivered_once():
        await alerts.client.post("/v1/webhooks/dispatch", headers=manager)
        assert sorted({r.webhook_id for r in receiver.accepted}) == sorted(set(receiver.refused_ids))
        assert len(receiver.accepted) == 3 and all(r.verified for r in receiver.accepted)

    await eventually(all_delivered_once)

    async def recorded_delivered():
        # The receiver answers before the dispatcher records the outcome.
        items = (await alerts.client.get(f"/v1/webhooks/subscriptions/{created.json()['id']}/deliveries", headers=manager)).json()["items"]
        assert {d["status"] for d in items} == {"delivered"} and all(d["attempts"] >= 2 for d in items), items
        return items

    history = await eventually(recorded_delivered)
    detail = (await alerts.client.get(f"/v1/webhooks/deliveries/{history[0]['id']}", headers=manager)).json()
    assert [a["succeeded"] for a in detail["attempt_history"]][-1] is True and detail["attempt_history"][0]["status_code"] == 503

    redelivered = await alerts.client.post(f"/v1/webhooks/deliveries/{history[0]['id']}/redeliver", headers=manager)
    assert redelivered.status_code == 200, redelivered.text

    async def redelivered_with_same_id():
        assert [r.webhook_id for r in receiver.accepted].count(history[0]["id"]) == 2

    await eventually(redelivered_with_same_id)

    # The dead target never answers: after the retry period (a day) its deliveries give up and it is disabled.
    alerts.clock.advance(timedelta(hours=25))

    async def dead_disabled():
        await alerts.client.post("/v1/webhooks/dispatch", headers=manager)
        subscription = (await alerts.client.get(f"/v1/webhooks/subscriptions/{dead.json()['id']}", headers=manager)).json()
        assert subscription["enabled"] is False and "failed" in subscription["disabled_reason"], subscription
        failing = (await alerts.client.get("/v1/alerts", params={"rule_type": "webhook_failing"}, headers=manager)).json()["items"]
        assert [a["subject"] for a in failing] == [f"subscription:{dead.json()['id']}"]

    await eventually(dead_disabled)
    assert alerts.metric("creditguard_webhook_deliveries_total", result="gave_up") == 3
    assert alerts.metric("creditguard_webhook_deliveries_total", result="failed_attempt") >= 6


async def test_unsafe_targets_are_refused_with_422(alerts):
    manager = alerts.auth("credit_manager")
    for url, reason in [
        ("ftp://127.0.0.1/hooks", "http or https"),
        ("http://10.1.2.3/hooks", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:8080/hooks", "loopback"),
        ("http://224.0.0.1/hooks", "multicast"),
        ("http://user:pw@127.0.0.1/hooks", "credentials"),
        ("http://no-such-host.invalid/hooks", "cannot be resolved"),
    ]:
        response = await alerts.client.post("/v1/webhooks/subscriptions", headers=manager, json={"url": url, "event_types": ["alert.raised"]})
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert reason in response.json()["detail"], (url, response.json())
    assert (await alerts.client.get("/v1/webhooks/subscriptions", headers=manager)).json() == []
    forbidden = await alerts.client.post(
        "/v1/webhooks/subscriptions", headers=alerts.auth("sales"), json={"url": "http://127.0.0.1/hooks", "event_types": ["alert.raised"]}
    )
    assert forbidden.status_code == 403


async def test_insurer_deadline_alert_fires_before_and_escalates_when_missed(alerts, broker, eventually):
    buyer = new_buyer()
    servers = broker.bootstrap_servers
    await publish_assessments(alerts, servers, assessed(buyer))
    await publish_event(
        servers,
        InsuranceCoverChangedV1(
            buyer_id=buyer,
            policy_id="POL-1",
            insurer="Allianz Trade",
            currency="EUR",
            insured_amount=Decimal("50000.00"),
            indemnity_percentage=Decimal("90"),
            report_overdue_within_days=30,
            file_claim_within_days=150,
        ),
        subject=buyer,
    )

    async def covered():
        assert (await eventually_known(alerts, buyer))["insurance_cover"] is not None

    await eventually(covered)
    await publish_event(servers, invoice(buyer, f"{buyer}-1", due_on=date(2026, 10, 1)), subject=buyer)
    await publish_event(servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)

    async def insurance_alerts() -> list[dict]:
        return (
            await alerts.client.get("/v1/alerts", params={"buyer_id": buyer, "rule_type": "insurance_report_deadline"}, headers=alerts.auth("sales"))
        ).json()["items"]

    async def late_alert_seen():
        items = (await alerts.client.get("/v1/alerts", params={"buyer_id": buyer}, headers=alerts.auth("sales"))).json()["items"]
        assert [a["rule_type"] for a in items] == ["payment_delay"]
        # invoice-posted and payment-late are different topics, consumed in no set order: the
        # sweep below needs the invoice itself, not only its lateness.
        receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
        assert [r["invoice_id"] for r in receivables] == [f"{buyer}-1"]

    await eventually(late_alert_seen)
    assert await insurance_alerts() == []  # deadline 2026-10-31 is more than 7 days away

    alerts.clock.advance(timedelta(days=23))  # 2026-10-25: six days before the report deadline
    await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    [before] = await insurance_alerts()
    assert (before["severity"], before["details"]["deadline"], before["details"]["missed"]) == ("high", "2026-10-31", False)
    assert before["title"].startswith("6 days left to report")

    alerts.clock.advance(timedelta(days=7))  # 2026-11-01: missed
    await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    [missed] = await insurance_alerts()
    assert (missed["id"], missed["severity"], missed["details"]["missed"]) == (before["id"], "critical", True)

    # Recording the notification on the collection case resolves it.
    case = (await alerts.client.get("/v1/collections/cases", params={"buyer_id": buyer}, headers=alerts.auth("sales"))).json()["items"][0]
    done = await alerts.client.post(
        f"/v1/collections/cases/{case['id']}/actions",
        headers=alerts.auth("credit_manager"),
        json={"kind": "insurer_notified", "comment": "reported late via portal"},
    )
    assert done.status_code == 201, done.text
    [resolved] = await insurance_alerts()
    assert resolved["status"] == "resolved"
    await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert [a["status"] for a in await insurance_alerts()] == ["resolved"]


async def test_a_target_is_checked_again_when_its_deliveries_are_sent(alerts, receiver, broker, eventually):
    """A target allowed when subscribed but refused by the time its deliveries go out (its name
    now resolves inside, or the allowed networks shrank) receives nothing: each attempt fails."""
    manager = alerts.auth("credit_manager")
    created = await alerts.client.post("/v1/webhooks/subscriptions", headers=manager, json={"url": receiver.url, "event_types": ["alert.raised"]})
    assert created.status_code == 201, created.text
    alerts.runtime.settings.webhook_allowed_networks = ""
    buyers = [new_buyer() for _ in range(2)]
    await publish_assessments(alerts, broker.bootstrap_servers, *(assessed(b) for b in buyers))
    for buyer in buyers:
        await publish_event(broker.bootstrap_servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)

    async def refused_at_send_time():
        items = (await alerts.client.get(f"/v1/webhooks/subscriptions/{created.json()['id']}/deliveries", headers=manager)).json()["items"]
        assert len(items) == 2 and all(d["attempts"] >= 1 and "refused" in d["last_error"] for d in items), items

    await eventually(refused_at_send_time)
    assert receiver.accepted == [] and receiver.refused_ids == []
