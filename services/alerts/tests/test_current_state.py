"""Rules that used to stay silent, stale or noisy: an open alert's title and severity follow its
condition, a zero limit stays breached, the worst risk class (under its old spelling too) is a
worsening, an overdue review raises and a new review date clears it, industries group by NACE
division or section, and history posted before its payments is judged by the documents' dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from creditguard_shared.events.contracts import (
    ExposureChangedV1,
    InvoicePostedV1,
    LimitBreachedV1,
    LimitChangedV1,
    PaymentReceivedV1,
    ScoreChangedV1,
)
from creditguard_shared.events.envelope import new_event
from services.alerts.tests.events import assessed, late, new_buyer, publish_assessments
from services.alerts.tests.test_collection_cases import hold_requests
from tests.kafka_tools import publish_event, publish_raw


def exposure(buyer_id: str, amount: str, *, limit: str | None, currency: str = "EUR") -> ExposureChangedV1:
    value = Decimal(amount)
    limit_amount = None if limit is None else Decimal(limit)
    utilisation = None if limit_amount is None or limit_amount <= 0 else float(value / limit_amount)
    available = None if limit_amount is None else max(limit_amount - value, Decimal("0"))
    return ExposureChangedV1(
        buyer_id=buyer_id,
        currency=currency,
        limit=limit_amount,
        exposure=value,
        open_invoices=value,
        open_orders=Decimal("0"),
        overdue=Decimal("0"),
        available=available,
        utilisation=utilisation,
    )


async def alerts_of(alerts, buyer_id: str | None, rule_type: str, **params: str) -> list[dict]:
    query = {"rule_type": rule_type, **params} | ({"buyer_id": buyer_id} if buyer_id else {})
    response = await alerts.client.get("/v1/alerts", params=query, headers=alerts.auth("sales"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def one(items: list[dict]) -> dict:
    assert len(items) == 1, items
    return items[0]


async def profile(alerts, buyer_id: str) -> dict:
    return (await alerts.client.get(f"/v1/buyers/{buyer_id}/profile", headers=alerts.auth("sales"))).json()


async def test_alerts_follow_their_condition_and_the_silent_rules_fire(alerts, broker, eventually):
    servers = broker.bootstrap_servers
    used, zero, downgraded, reviewed = (new_buyer() for _ in range(4))
    await publish_assessments(alerts, servers, *(assessed(b) for b in (used, zero, downgraded, reviewed)))

    # Utilisation: raised at 85 %, then the same alert says 160 % and is critical, then 90 % and medium again.
    await publish_event(servers, exposure(used, "8500.00", limit="10000.00"), subject=used)

    async def utilisation_alert(percent: str, severity: str) -> dict:
        alert = one(await alerts_of(alerts, used, "limit_utilisation"))
        assert (alert["status"], alert["severity"], percent in alert["title"]) == ("open", severity, True), alert
        return alert

    first = await eventually(lambda: utilisation_alert("85%", "medium"))
    await publish_event(servers, exposure(used, "16000.00", limit="10000.00"), subject=used)
    worse = await eventually(lambda: utilisation_alert("160%", "critical"))
    assert worse["id"] == first["id"] and worse["escalated_at"] is not None and worse["raised_severity"] == "medium"
    await publish_event(servers, exposure(used, "9000.00", limit="10000.00"), subject=used)
    better = await eventually(lambda: utilisation_alert("90%", "medium"))
    assert better["id"] == first["id"]

    # A zero limit: utilisation is undefined, the breach is not "back within the limit".
    await publish_event(servers, exposure(zero, "500.00", limit="0.00"), subject=zero)
    await eventually(lambda: _exposure_is(alerts, zero, "500.00"))
    await publish_event(
        servers, LimitBreachedV1(buyer_id=zero, limit=Decimal("0.00"), exposure=Decimal("500.00"), excess=Decimal("500.00"), currency="EUR"), subject=zero
    )

    async def breach_open() -> None:
        assert [a["status"] for a in await alerts_of(alerts, zero, "limit_breach")] == ["open"]

    await eventually(breach_open)
    await publish_event(servers, exposure(zero, "600.00", limit="0.00"), subject=zero)
    await eventually(lambda: _exposure_is(alerts, zero, "600.00"))
    await breach_open()
    zero_used = one(await alerts_of(alerts, zero, "limit_utilisation"))
    assert (zero_used["severity"], "zero limit" in zero_used["title"]) == ("critical", True), zero_used
    await publish_event(servers, exposure(zero, "0.00", limit="0.00"), subject=zero)

    async def breach_resolved() -> None:
        breach = one(await alerts_of(alerts, zero, "limit_breach"))
        assert (breach["status"], breach["resolution_comment"]) == ("resolved", "exposure back within the limit"), breach

    await eventually(breach_resolved)

    # Grade 1 to 10, published by an older scoring as "very high": a critical downgrade and a worsening.
    change = ScoreChangedV1(
        buyer_id=downgraded,
        old_grade=1,
        new_grade=10,
        old_risk_class="low",
        new_risk_class="very_high",
        pd=0.45,
        model_version="test",
        assessed_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    envelope = new_event(source="/creditguard/scoring", payload=change, subject=downgraded)
    envelope.data["new_risk_class"] = "very high"
    await publish_raw(servers, "score-changed", [(downgraded.encode(), envelope.to_bytes(), [])])

    async def downgrade_alerts() -> None:
        grade = one(await alerts_of(alerts, downgraded, "score_downgrade"))
        assert (grade["severity"], grade["title"]) == ("critical", f"Buyer {downgraded} downgraded from grade 1 to 10"), grade
        moved = one(await alerts_of(alerts, downgraded, "risk_class_worsened"))
        assert moved["title"] == f"Buyer {downgraded} moved from risk class low to very_high", moved
        assert (await profile(alerts, downgraded))["risk_class"] == "very_high"

    await eventually(downgrade_alerts)

    # A fall in two steps is one fall: 1 -> 4 is medium, then 4 -> 9 makes the same alert "1 to 9", critical.
    falling = new_buyer()
    for old_grade, new_grade, old_class, new_class in ((1, 4, "low", "medium"), (4, 9, "medium", "very_high")):
        await publish_event(
            servers,
            ScoreChangedV1(
                buyer_id=falling,
                old_grade=old_grade,
                new_grade=new_grade,
                old_risk_class=old_class,
                new_risk_class=new_class,
                pd=0.2,
                model_version="test",
                assessed_at=datetime(2026, 10, 1, tzinfo=UTC),
            ),
            subject=falling,
        )

    async def one_fall() -> None:
        fall = one(await alerts_of(alerts, falling, "score_downgrade"))
        assert (fall["severity"], fall["raised_severity"], fall["title"]) == ("critical", "medium", f"Buyer {falling} downgraded from grade 1 to 9"), fall

    await eventually(one_fall)

    # The review date limits announces: overdue at once (it passed yesterday), cleared by the next review date.
    yesterday = alerts.clock.today() - timedelta(days=1)
    await publish_event(
        servers,
        LimitChangedV1(buyer_id=reviewed, old_amount=None, new_amount=Decimal("20000.00"), currency="EUR", changed_by="test", review_due_on=yesterday),
        subject=reviewed,
    )

    async def review_overdue() -> None:
        alert = one(await alerts_of(alerts, reviewed, "review_overdue"))
        assert (alert["status"], alert["details"]) == ("open", {"review_due_on": yesterday.isoformat()}), alert

    await eventually(review_overdue)
    await publish_event(
        servers,
        LimitChangedV1(
            buyer_id=reviewed,
            old_amount=Decimal("20000.00"),
            new_amount=Decimal("25000.00"),
            currency="EUR",
            changed_by="test",
            review_due_on=yesterday + timedelta(days=366),
        ),
        subject=reviewed,
    )

    async def reviewed_again() -> None:
        alert = one(await alerts_of(alerts, reviewed, "review_overdue"))
        assert alert["status"] == "resolved", alert

    await eventually(reviewed_again)

    # Industries by NACE division: 28 and 28.1 are one industry holding 40 % of the USD book.
    industries = ["28", "28.1", "10", "41", "62"]
    book = [new_buyer() for _ in industries]
    await publish_assessments(alerts, servers, *(assessed(b, industry=i) for b, i in zip(book, industries, strict=True)))
    for buyer_id in book:
        await publish_event(servers, exposure(buyer_id, "1000.00", limit="5000.00", currency="USD"), subject=buyer_id)

    async def industry_alerts(expected: list[tuple[str, float]]) -> list[dict]:
        found = [a for a in await alerts_of(alerts, None, "concentration_industry", status="open") if a["details"]["currency"] == "USD"]
        assert [(a["subject"], a["details"]["share"]) for a in found] == [(subject, share) for subject, share in expected], found
        return found

    await eventually(lambda: industry_alerts([("industry:28", 0.4)]))
    # By section instead: 28, 28.1 and 10 are all manufacturing (C), 60 %.
    refused = await alerts.client.patch(
        "/v1/alert-rules/concentration-industry", headers=alerts.auth("credit_manager"), json={"params": {"max_share": 0.3, "industry_level": "group"}}
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json", refused.text
    patched = await alerts.client.patch(
        "/v1/alert-rules/concentration-industry", headers=alerts.auth("credit_manager"), json={"params": {"max_share": 0.3, "industry_level": "section"}}
    )
    assert patched.status_code == 200, patched.text
    assert (await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))).status_code == 200
    await industry_alerts([("industry:C", 0.6)])


async def _exposure_is(alerts, buyer_id: str, amount: str) -> None:
    assert Decimal(str((await profile(alerts, buyer_id))["exposure"])) == Decimal(amount)


def payment(buyer_id: str, invoice_id: str, *, paid_on: date, amount: str = "5000.00") -> PaymentReceivedV1:
    return PaymentReceivedV1(payment_id=f"{invoice_id}-P", buyer_id=buyer_id, invoice_id=invoice_id, amount=Decimal(amount), currency="EUR", paid_on=paid_on)


async def test_history_posted_before_its_payments_is_judged_by_the_documents_dates(alerts, receiver, broker, eventually):
    """An ERP loads last spring's invoices today and their payments after them: nothing is chased
    for an invoice its payment (by its own date) settled, only the one still unpaid; and a live
    invoice whose payment turns out to be dated on time closes as paid on time."""
    servers = broker.bootstrap_servers
    subscribed = await alerts.client.post(
        "/v1/webhooks/subscriptions",
        headers=alerts.auth("credit_manager"),
        json={"url": receiver.url, "event_types": ["alert.raised", "alert.escalated", "collection.case_opened", "collection.level_changed"]},
    )
    assert subscribed.status_code == 201, subscribed.text
    receiver.secret = subscribed.json()["secret"]
    buyer = new_buyer()
    # Grade 9-10 buyers are "very_high": the high-risk strategy is theirs.
    await publish_assessments(alerts, servers, assessed(buyer, risk_class="very_high"))
    on_time, paid_late, unpaid, live = (f"{buyer}-{name}" for name in ("A", "B", "C", "D"))
    for invoice_id, issued_on, due_on in (
        (on_time, date(2026, 5, 1), date(2026, 6, 1)),
        (paid_late, date(2026, 6, 1), date(2026, 7, 1)),
        (unpaid, date(2026, 6, 15), date(2026, 7, 15)),
        (live, date(2026, 9, 1), date(2026, 10, 1)),
    ):
        await publish_event(
            servers,
            InvoicePostedV1(invoice_id=invoice_id, buyer_id=buyer, amount=Decimal("5000.00"), currency="EUR", issued_on=issued_on, due_on=due_on),
            subject=buyer,
        )

    async def cases() -> dict[str, dict]:
        page = (await alerts.client.get("/v1/collections/cases", params={"buyer_id": buyer}, headers=alerts.auth("sales"))).json()
        return {case["invoice_id"]: case for case in page["items"]}

    async def invoices_known() -> None:
        receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
        assert len(receivables) == 4, receivables

    await eventually(invoices_known)
    # Limits' aging sweep ran before the payments came: it reports the old invoice 123 days late.
    await publish_event(servers, late(buyer, on_time, days=123, bucket=90, due_on=date(2026, 6, 1)), subject=buyer)
    await publish_event(servers, late(buyer, live, days=1, bucket=1, due_on=date(2026, 10, 1)), subject=buyer)

    async def live_case_open() -> None:
        receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
        assert {r["invoice_id"]: r["late_bucket"] for r in receivables} == {on_time: 90, paid_late: 0, unpaid: 0, live: 1}, receivables
        assert list(await cases()) == [live]

    await eventually(live_case_open)
    sweep = await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert sweep.status_code == 200, sweep.text
    assert list(await cases()) == [live]
    assert [a["invoice_id"] for a in await alerts_of(alerts, buyer, "payment_delay")] == [live]

    # The payments: spring's on time, June's 19 days late, and the live invoice's bank statement dated on time.
    for invoice_id, paid_on in ((on_time, date(2026, 5, 30)), (paid_late, date(2026, 7, 20)), (live, date(2026, 9, 30))):
        await publish_event(servers, payment(buyer, invoice_id, paid_on=paid_on), subject=buyer)

    async def live_case_closed_on_time() -> None:
        case = (await cases())[live]
        assert (case["status"], case["close_reason"], case["hold_requested"]) == ("closed", "invoice paid on time (2026-09-30)", False), case
        alert = one(await alerts_of(alerts, buyer, "payment_delay"))
        assert (alert["status"], alert["resolution_comment"]) == ("resolved", "invoice paid on time (2026-09-30)"), alert

    await eventually(live_case_closed_on_time)

    # A day later the history has had its chance to arrive: only the invoice nobody paid is chased.
    alerts.clock.advance(timedelta(hours=25))
    sweep = await alerts.client.post("/v1/alerts/sweep", headers=alerts.auth("credit_manager"))
    assert sweep.status_code == 200, sweep.text
    chased = await cases()
    assert sorted(chased) == [unpaid, live]
    assert (chased[unpaid]["strategy_id"], chased[unpaid]["status"], chased[unpaid]["hold_requested"]) == ("high-risk", "open", True), chased[unpaid]
    assert {a["invoice_id"]: a["severity"] for a in await alerts_of(alerts, buyer, "payment_delay", status="open")} == {unpaid: "high"}
    holds = await hold_requests(broker, buyer)
    assert [(h["hold"], h["case_id"]) for h in holds] == [(True, chased[unpaid]["id"])], holds

    async def webhooks_sent() -> None:
        opened = {r.payload["data"]["case"]["invoice_id"] for r in receiver.accepted_of("collection.case_opened")}
        assert opened == {unpaid, live}, opened

    await eventually(webhooks_sent)
    about = {r.payload["data"].get("alert", r.payload["data"].get("case", {})).get("invoice_id") for r in receiver.accepted}
    assert about == {unpaid, live}, about
