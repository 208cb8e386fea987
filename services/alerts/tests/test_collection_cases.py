"""Collection cases move level by level with the clock, pause on a promise to pay, keep the
remainder open after a partial payment, and the stop-supplies level puts the limits account on hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from creditguard_shared.clock import Clock
from creditguard_shared.events.envelope import EventEnvelope
from services.alerts.tests.events import assessed, invoice, late, new_buyer, paid, publish_assessments
from tests.kafka_tools import publish_event, read_topic


async def sweep(alerts) -> None:
    response = await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert response.status_code == 200, response.text


async def the_case(alerts, buyer: str) -> dict:
    page = (await alerts.client.get("/v1/collections/cases", params={"buyer_id": buyer}, headers=alerts.auth("sales"))).json()
    assert page["total"] == 1, page
    return (await alerts.client.get(f"/v1/collections/cases/{page['items'][0]['id']}", headers=alerts.auth("sales"))).json()


async def hold_requests(broker, buyer: str) -> list[dict]:
    records = await read_topic(broker.bootstrap_servers, "account-hold-requested")
    return [EventEnvelope.from_bytes(r.value).data for r in records if r.key == buyer.encode()]


async def test_case_escalates_level_by_level_and_stop_supplies_holds_the_account(alerts, start_service, databases, broker, eventually):
    limits = await start_service(
        "limits",
        database_url=await databases.create("limits"),
        bootstrap_servers=broker.bootstrap_servers,
        clock=Clock(fixed=datetime(2026, 10, 2, 9, tzinfo=UTC)),
    )
    buyer = new_buyer()
    servers = broker.bootstrap_servers
    await publish_assessments(alerts, servers, assessed(buyer, risk_class="medium"))
    await publish_event(servers, invoice(buyer, f"{buyer}-1"), subject=buyer)
    await publish_event(servers, late(buyer, f"{buyer}-1", days=1, bucket=1), subject=buyer)

    async def opened():
        case = await the_case(alerts, buyer)
        assert (case["strategy_id"], case["level"], case["status"]) == ("standard", "friendly_reminder", "open"), case
        return case

    case = await eventually(opened)
    queue = (await alerts.client.get("/v1/collections/actions", headers=alerts.auth("credit_manager"), params={"buyer_id": buyer})).json()
    assert [(i["action"]["level"], i["action"]["status"]) for i in queue["items"]] == [("friendly_reminder", "pending")]

    # A promise to pay pauses escalation until its date.
    promise = await alerts.client.post(
        f"/v1/collections/cases/{case['id']}/actions",
        headers=alerts.auth("credit_manager"),
        json={"kind": "promise_to_pay", "promised_on": "2026-10-20", "promised_amount": "5000.00", "comment": "CFO promised"},
    )
    assert promise.status_code == 201, promise.text
    assert (await alerts.client.get("/v1/collections/actions", headers=alerts.auth("credit_manager"), params={"buyer_id": buyer})).json()["total"] == 0
    after_promise = await the_case(alerts, buyer)
    alerts.clock.advance(timedelta(days=17))  # 18 days past due, promise still running
    await sweep(alerts)
    waiting = await the_case(alerts, buyer)
    # The days count on; nothing happened to the case itself, so it was not updated.
    assert (waiting["level"], waiting["days_past_due"], waiting["updated_at"]) == ("friendly_reminder", 18, after_promise["updated_at"])

    alerts.clock.advance(timedelta(days=4))  # promise broken, 22 days past due
    await sweep(alerts)
    case = await the_case(alerts, buyer)
    assert case["level"] == "firm_reminder" and case["promised_until"] is None
    assert "promise_broken" in [a["kind"] for a in case["actions"]]
    assert await hold_requests(broker, buyer) == []

    async def promise_broken_published():
        records = await read_topic(broker.bootstrap_servers, "promise-broken")
        broken = [EventEnvelope.from_bytes(r.value).data for r in records if r.key == buyer.encode()]
        assert broken == [
            {
                "buyer_id": buyer,
                "case_id": case["id"],
                "invoice_id": f"{buyer}-1",
                "promised_until": "2026-10-20",
                "promised_amount": "5000.00",
                "broken_on": "2026-10-23",
            }
        ], broken

    await eventually(promise_broken_published)

    await publish_event(servers, paid(buyer, f"{buyer}-1", amount="1000.00"), subject=buyer)

    async def partially_paid():
        current = await the_case(alerts, buyer)
        assert (current["status"], current["open_amount"]) == ("open", "4000.00"), current

    await eventually(partially_paid)

    alerts.clock.advance(timedelta(days=25))  # 47 days past due: phone call, then stop supplies
    await sweep(alerts)
    case = await the_case(alerts, buyer)
    assert case["level"] == "stop_supplies" and case["hold_requested"] is True
    levels = [a["level"] for a in case["actions"] if a["kind"] == "level_action"]
    assert levels == ["friendly_reminder", "firm_reminder", "phone_call", "stop_supplies"]
    assert [a["status"] for a in case["actions"] if a["kind"] == "level_action"][-1] == "pending"

    async def hold_published():
        requests = await hold_requests(broker, buyer)
        assert [(r["hold"], r["case_id"]) for r in requests] == [(True, case["id"])], requests

    await eventually(hold_published)

    async def limits_account_on_hold():
        account = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
        assert account["status"] == "on_hold", account

    await eventually(limits_account_on_hold, timeout=30)

    async def on_hold_alert_from_limits_event():
        items = (await alerts.client.get("/v1/alerts", params={"buyer_id": buyer, "rule_type": "account_on_hold"}, headers=alerts.auth("sales"))).json()[
            "items"
        ]
        assert [a["status"] for a in items] == ["open"], items

    await eventually(on_hold_alert_from_limits_event, timeout=30)

    await publish_event(servers, paid(buyer, f"{buyer}-1", amount="4000.00"), subject=buyer)

    async def closed_and_released():
        current = await the_case(alerts, buyer)
        assert (current["status"], current["close_reason"], current["hold_requested"]) == ("closed", "invoice paid 35 days late (2026-11-05)", False), current
        assert [r["hold"] for r in await hold_requests(broker, buyer)] == [True, False]

    await eventually(closed_and_released)
    assert all(a["status"] != "pending" for a in (await the_case(alerts, buyer))["actions"])

    async def limits_account_active():
        account = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
        assert account["status"] == "active", account

    await eventually(limits_account_active, timeout=30)
