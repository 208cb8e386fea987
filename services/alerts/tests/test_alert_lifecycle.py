"""A late payment raises the right alert once, escalates as the clock moves, resolves on payment,
and every webhook about it verifies with the reference Standard Webhooks library."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.alerts.tests.events import assessed, invoice, late, new_buyer, paid, publish_assessments
from tests.kafka_tools import publish_event


async def subscribe(alerts, receiver, event_types: list[str], **filter_) -> dict:
    response = await alerts.client.post(
        "/v1/webhooks/subscriptions", headers=alerts.auth("credit_manager"), json={"url": receiver.url, "event_types": event_types, "filter": filter_}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["secret"].startswith("whsec_")
    receiver.secret = body["secret"]
    return body


async def buyer_alerts(alerts, buyer: str, **params: str) -> list[dict]:
    response = await alerts.client.get("/v1/alerts", params={"buyer_id": buyer, **params}, headers=alerts.auth("sales"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_late_payment_alert_raised_once_escalates_and_resolves(alerts, receiver, broker, eventually):
    subscription = await subscribe(alerts, receiver, ["alert.raised", "alert.escalated", "alert.resolved"], account_owners=["anna.sales"])
    other_owner = new_buyer()
    buyer = new_buyer()
    servers = broker.bootstrap_servers
    await publish_assessments(alerts, servers, assessed(buyer), assessed(other_owner, owner="someone.else"))
    await publish_event(servers, invoice(buyer, f"{buyer}-1"), subject=buyer)
    await publish_event(servers, invoice(other_owner, f"{other_owner}-1"), subject=other_owner)
    await publish_event(servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)
    await publish_event(servers, late(other_owner, f"{other_owner}-1", days=1, bucket=1), subject=other_owner)

    async def raised():
        items = await buyer_alerts(alerts, buyer)
        assert [(a["rule_type"], a["severity"], a["status"], a["invoice_id"]) for a in items] == [("payment_delay", "info", "open", f"{buyer}-1")]
        assert await buyer_alerts(alerts, other_owner), "the other buyer's alert exists too"
        return items[0]

    alert = await eventually(raised)
    # A person's alerts: those on the buyers whose account owner they are.
    owned = (await alerts.client.get("/v1/alerts", params={"account_owner": "anna.sales", "unresolved": "true"}, headers=alerts.auth("sales"))).json()
    assert buyer in {a["buyer_id"] for a in owned["items"]} and other_owner not in {a["buyer_id"] for a in owned["items"]}
    profiles = (await alerts.client.get("/v1/buyer-profiles", params={"account_owner": "someone.else"}, headers=alerts.auth("sales"))).json()
    assert [p["buyer_id"] for p in profiles["items"]] == [other_owner] and profiles["items"][0]["account_status"] == "active"
    assert (
        await alerts.client.get("/v1/buyer-profiles", params={"account_owner": "someone.else", "account_status": "on_hold"}, headers=alerts.auth("sales"))
    ).json()["total"] == 0
    # The limits sweep re-announcing the same bucket (a new event id) is the same condition: no second alert.
    await publish_event(servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)
    await publish_event(servers, invoice(buyer, f"{buyer}-marker", due_on=alerts.clock.today() + timedelta(days=90)), subject=buyer)

    async def marker_seen():
        receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
        assert f"{buyer}-marker" in [r["invoice_id"] for r in receivables]

    await eventually(marker_seen)
    assert [a["id"] for a in await buyer_alerts(alerts, buyer)] == [alert["id"]]

    alerts.clock.advance(timedelta(days=31))  # 32 days past due
    sweep = await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert sweep.status_code == 200, sweep.text
    [escalated] = await buyer_alerts(alerts, buyer)
    assert (escalated["id"], escalated["severity"], escalated["raised_severity"]) == (alert["id"], "medium", "info")
    assert escalated["details"]["threshold"] == 30
    assert escalated["escalated_at"] is not None

    # The next day's sweep finds the same condition: nothing about the alert changes.
    alerts.clock.advance(timedelta(days=1))
    assert (await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))).status_code == 200
    [unchanged] = await buyer_alerts(alerts, buyer)
    assert unchanged == escalated

    ack = await alerts.client.post(f"/v1/alerts/{alert['id']}/ack", headers=alerts.auth("sales"), json={"comment": "calling them"})
    assert ack.json()["status"] == "acknowledged"

    await publish_event(servers, paid(buyer, f"{buyer}-1", amount="2000.00"), subject=buyer)
    # Overpaid by 500 (limits keeps that as the buyer's unapplied cash): the copy's invoice is settled, never negative.
    await publish_event(servers, paid(buyer, f"{buyer}-1", amount="3500.00").model_copy(update={"unapplied_amount": Decimal("500.00")}), subject=buyer)

    async def resolved():
        [item] = await buyer_alerts(alerts, buyer)
        assert item["status"] == "resolved" and item["resolved_by"] == "system", item

    await eventually(resolved)
    receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
    assert {r["invoice_id"]: r["open_amount"] for r in receivables}[f"{buyer}-1"] == "0.00"
    assert await buyer_alerts(alerts, buyer, status="open") == []

    async def webhooks_received():
        mine = [r for r in receiver.accepted if r.payload["data"]["alert"]["id"] == alert["id"]]
        assert [r.payload["type"] for r in mine] == ["alert.raised", "alert.escalated", "alert.resolved"], [r.payload["type"] for r in mine]
        return mine

    mine = await eventually(webhooks_received)
    assert all(r.verified for r in receiver.accepted)
    assert len({r.webhook_id for r in mine}) == 3
    raised_payload = mine[0].payload["data"]
    assert raised_payload["account_owner"] == "anna.sales"
    assert raised_payload["buyer"]["name"] == f"{buyer} GmbH"
    assert raised_payload["links"]["alert"].endswith(f"/v1/alerts/{alert['id']}")
    # The filter by account owner kept the other buyer's alerts away.
    assert all(r.payload["data"]["buyer"]["buyer_id"] != other_owner for r in receiver.accepted)

    async def recorded_delivered():
        # The receiver answers before the dispatcher records the outcome.
        history = (await alerts.client.get(f"/v1/webhooks/subscriptions/{subscription['id']}/deliveries", headers=alerts.auth("credit_manager"))).json()
        assert {d["status"] for d in history["items"]} == {"delivered"}, history
        assert alerts.metric("creditguard_webhook_deliveries_total", result="delivered") == 3

    await eventually(recorded_delivered)
    assert alerts.metric("creditguard_alerts_raised_total", rule_type="payment_delay", severity="info") == 2
    assert "creditguard_webhook_delivery_duration_seconds_count" in (await alerts.client.get("/metrics")).text
