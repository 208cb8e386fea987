"""Portfolio rules: concentration by buyer, country and industry follows every exposure change
(shares summed by the database, exact to the cent at the maximum), and the sweep raises and clears
overdue credit reviews."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from creditguard_shared.events.contracts import ExposureChangedV1, LimitChangedV1
from services.alerts.tests.events import assessed, new_buyer, publish_assessments
from tests.kafka_tools import publish_event


def exposure(buyer_id: str, amount: str) -> ExposureChangedV1:
    value = Decimal(amount)
    return ExposureChangedV1(
        buyer_id=buyer_id,
        currency="EUR",
        limit=Decimal("100000.00"),
        exposure=value,
        open_invoices=value,
        open_orders=Decimal("0"),
        overdue=Decimal("0"),
        available=Decimal("100000.00") - value,
        utilisation=float(value / 100000),
    )


async def open_alerts(alerts, rule_type: str) -> list[dict]:
    response = await alerts.client.get("/v1/alerts", params={"rule_type": rule_type, "status": "open"}, headers=alerts.auth("sales"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def exposures_seen(alerts, expected: dict[str, str]) -> None:
    for buyer_id, amount in expected.items():
        profile = (await alerts.client.get(f"/v1/buyers/{buyer_id}/profile", headers=alerts.auth("sales"))).json()
        assert Decimal(str(profile["exposure"])) == Decimal(amount), profile


async def test_concentration_follows_exposure_by_buyer_country_and_industry(alerts, broker, eventually):
    servers = broker.bootstrap_servers
    # Ten buyers of 1,000.00 each: every buyer holds exactly the 10% maximum, which is not above it.
    buyers = [new_buyer() for _ in range(10)]
    countries = ["DE", "DE", "FR", "PL", "NL", "IT", "ES", "AT", "BE", "CZ"]
    industries = ["machinery", "machinery", "retail", "construction", "transport", "software", "food", "chemicals", "textiles", "energy"]
    await publish_assessments(
        alerts, servers, *(assessed(b, industry=i).model_copy(update={"country": c}) for b, c, i in zip(buyers, countries, industries, strict=True))
    )
    held = dict.fromkeys(buyers, "1000.00")
    for buyer_id, amount in held.items():
        await publish_event(servers, exposure(buyer_id, amount), subject=buyer_id)

    async def settled():
        await exposures_seen(alerts, held)
        return {t: await open_alerts(alerts, t) for t in ("concentration_buyer", "concentration_country", "concentration_industry")}

    assert await eventually(settled) == {"concentration_buyer": [], "concentration_country": [], "concentration_industry": []}

    # While the first exposures arrived each buyer held more than 10% for a moment; that alert's
    # cooldown (a day) is over before the first buyer grows to 8,000.00 of 17,000.00: 47% for the
    # buyer, 53% for DE and for machinery.
    alerts.clock.advance(timedelta(days=2))
    held[buyers[0]] = "8000.00"
    await publish_event(servers, exposure(buyers[0], "8000.00"), subject=buyers[0])

    async def raised():
        found = await settled()
        assert {t: [a["subject"] for a in items] for t, items in found.items()} == {
            "concentration_buyer": [f"buyer_id:{buyers[0]}"],
            "concentration_country": ["country:DE"],
            "concentration_industry": ["industry:machinery"],
        }, found
        return found

    found = await eventually(raised)
    assert found["concentration_buyer"][0]["buyer_id"] == buyers[0]
    assert found["concentration_buyer"][0]["details"]["share"] == round(8000 / 17000, 4)
    assert found["concentration_country"][0]["details"]["share"] == round(9000 / 17000, 4)

    # Back to 1,000.00: every share is under its maximum again and the alerts resolve.
    held[buyers[0]] = "1000.00"
    await publish_event(servers, exposure(buyers[0], "1000.00"), subject=buyers[0])

    async def resolved():
        found = await settled()
        assert all(items == [] for items in found.values()), found

    await eventually(resolved)


async def test_sweep_raises_and_clears_overdue_reviews(alerts, broker, eventually):
    servers = broker.bootstrap_servers
    today = alerts.clock.now().date()
    due_soon, due_later = new_buyer(), new_buyer()
    await publish_assessments(alerts, servers, assessed(due_soon), assessed(due_later))
    for buyer_id, review_due_on in ((due_soon, today + timedelta(days=3)), (due_later, today + timedelta(days=30))):
        await publish_event(
            servers,
            LimitChangedV1(buyer_id=buyer_id, old_amount=None, new_amount=Decimal("50000.00"), currency="EUR", changed_by="test", review_due_on=review_due_on),
            subject=buyer_id,
        )

    async def reviews_known():
        for buyer_id in (due_soon, due_later):
            profile = (await alerts.client.get(f"/v1/buyers/{buyer_id}/profile", headers=alerts.auth("sales"))).json()
            assert profile.get("review_due_on") is not None, profile

    await eventually(reviews_known)
    assert await open_alerts(alerts, "review_overdue") == []

    alerts.clock.advance(timedelta(days=4))  # the first review is a day overdue, the second not yet
    sweep = await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert sweep.status_code == 200, sweep.text
    assert sweep.json()["reviews_checked"] == 2
    overdue = await open_alerts(alerts, "review_overdue")
    assert [(a["buyer_id"], a["details"]) for a in overdue] == [(due_soon, {"review_due_on": str(today + timedelta(days=3))})]

    # A week's grace makes the first review not overdue any more: the sweep clears its alert.
    patched = await alerts.client.patch("/v1/alert-rules/review-overdue", headers=alerts.auth("credit_manager"), json={"params": {"grace_days": 7}})
    assert patched.status_code == 200, patched.text
    await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert await open_alerts(alerts, "review_overdue") == []
