"""Calibration on the real service, both databases and the broker: the back-test of a small known
book, recalibrations that re-grade the book and publish its assessments, and 90 days past due as
default, caught by the due pass as days pass without any event."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from creditguard_scoring.calibration import rules
from creditguard_shared.clock import Clock
from creditguard_shared.events.contracts import InvoicePostedV1
from creditguard_shared.events.envelope import EventEnvelope
from services.scoring.tests.statements_fixtures import STRONG, WEAK
from tests.kafka_tools import publish_event, read_topic

PROBLEM = "application/problem+json"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
YEAR_LATER = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def _profile(name: str) -> dict:
    return {"name": name, "country": "DE", "industry": "C", "legal_form": "GmbH", "founded_on": "2001-03-01"}


async def _register(scoring, buyer: str, statement: dict) -> None:
    cm = scoring.auth("credit_manager")
    assert (await scoring.client.put(f"/v1/buyers/{buyer}", json=_profile(buyer), headers=cm)).status_code == 201
    assert (await scoring.client.post(f"/v1/buyers/{buyer}/financial-statements", json=statement, headers=cm)).status_code == 201


async def _invoice(broker, buyer: str, due_on: date) -> None:
    await publish_event(
        broker.bootstrap_servers,
        InvoicePostedV1(
            invoice_id=f"{buyer}-I1",
            buyer_id=buyer,
            amount=Decimal("10000.00"),
            currency="EUR",
            issued_on=due_on - timedelta(days=30),
            due_on=due_on,
        ),
        subject=buyer,
    )


async def _events(broker, topic: str, buyers: set[str]) -> list[dict]:
    return [EventEnvelope.from_bytes(r.value).data for r in await read_topic(broker.bootstrap_servers, topic) if r.key and r.key.decode() in buyers]


async def _score(scoring, buyer: str) -> dict:
    return (await scoring.client.get(f"/v1/buyers/{buyer}/score", headers=scoring.auth("sales"))).json()


async def test_backtest_of_a_known_book_and_recalibrations_that_regrade_it(start_service, databases, broker, eventually):
    clock = Clock(fixed=START)
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, clock=clock)
    cm, sales = scoring.auth("credit_manager"), scoring.auth("sales")
    tag = uuid.uuid4().hex[:6]
    strong, weak = [f"S{i}-{tag}" for i in range(5)], [f"W{i}-{tag}" for i in range(5)]
    for buyer in strong:
        await _register(scoring, buyer, STRONG)
    for buyer in weak:
        await _register(scoring, buyer, WEAK)
    at_start = {b: await _score(scoring, b) for b in strong + weak}
    # Within the year: three weak buyers file for insolvency, one strong buyer leaves an invoice unpaid 90 days.
    await _invoice(broker, strong[0], date(2026, 3, 1))

    async def invoice_arrived():
        body = (await scoring.client.get(f"/v1/buyers/{strong[0]}/payment-behaviour", headers=sales)).json()
        assert body["invoices_open"] == 1, body

    await eventually(invoice_arrived, timeout=30)
    clock.set(YEAR_LATER)
    for number, buyer in enumerate(weak[:3]):
        filing = {"event_id": f"INS-{tag}-{number}", "kind": "insolvency_filing", "occurred_on": f"2026-0{number + 4}-15"}
        assert (await scoring.client.post(f"/v1/buyers/{buyer}/adverse-events", json=filing, headers=cm)).status_code == 201
    # A filing before the window: that buyer was in default already and is left out.
    late_tag = f"X-{tag}"
    await _register(scoring, late_tag, WEAK)
    assert (
        await scoring.client.post(f"/v1/buyers/{late_tag}/adverse-events", json={"kind": "insolvency_filing", "occurred_on": "2025-12-01"}, headers=cm)
    ).status_code == 201

    response = await scoring.client.get("/v1/calibration/backtest", params={"as_of": "2026-01-05", "horizon_days": 365}, headers=sales)
    assert response.status_code == 200, response.text
    backtest = response.json()
    defaulted = {strong[0], *weak[:3]}
    # Registered after as_of: not in force then; the expectations come from the assessments at the start.
    assert (backtest["buyers"], backtest["defaults"], backtest["default_rate"]) == (10, 4, 0.4)
    pds = [at_start[b]["pd"] for b in strong + weak]
    outcomes = [b in defaulted for b in strong + weak]
    assert backtest["mean_pd"] == pytest.approx(sum(pds) / 10)
    assert backtest["brier_score"] == pytest.approx(sum((p - y) ** 2 for p, y in zip(pds, outcomes, strict=True)) / 10)
    assert backtest["auc"] == pytest.approx(rules.auc(pds, outcomes))
    for row in backtest["grades"]:
        members = [b for b in strong + weak if at_start[b]["grade"] == row["grade"]]
        assert row["buyers"] == len(members), row
        if members:
            k = sum(1 for b in members if b in defaulted)
            mean_pd = sum(at_start[b]["pd"] for b in members) / len(members)
            assert (row["defaults"], row["default_rate"], row["mean_pd"]) == (k, k / len(members), pytest.approx(mean_pd))
            assert row["p_value"] == pytest.approx(rules.binomial_two_sided_p(k, len(members), mean_pd))
            assert (row["interval_low"], row["interval_high"]) == pytest.approx(rules.clopper_pearson(k, len(members)))
    assert {at_start[b]["grade"] for b in strong} != {at_start[b]["grade"] for b in weak}

    # Bad windows and roles: problems, not 500s.
    future = await scoring.client.get("/v1/calibration/backtest", params={"as_of": "2026-06-01"}, headers=sales)
    assert future.status_code == 422 and future.headers["content-type"].startswith(PROBLEM)
    assert (await scoring.client.get("/v1/calibration/backtest", params={"as_of": "2026-13-01"}, headers=sales)).status_code == 422
    assert (await scoring.client.get("/v1/calibration", headers=scoring.auth("erp"))).status_code == 403
    body = {"as_of": "2026-01-05", "horizon_days": 365, "method": "intercept", "reason": "Year-end review: PDs below the realised defaults"}
    assert (await scoring.client.post("/v1/calibration/recalibrations", json=body, headers=sales)).status_code == 403
    assert (await scoring.client.post("/v1/calibration/recalibrations", json={**body, "method": "magic"}, headers=cm)).status_code == 422
    nothing = await scoring.client.post("/v1/calibration/recalibrations", json={**body, "as_of": "2025-01-01"}, headers=cm)
    assert nothing.status_code == 422 and nothing.headers["content-type"].startswith(PROBLEM)

    before = (await scoring.client.get("/v1/calibration", headers=sales)).json()
    assert before["current"]["version"] == 0 and before["current"]["method"] == "settings" and before["history"] == []

    # Calibration in the large: every logit shifts so the mean PD is the realised 40 %.
    clock.set(YEAR_LATER + timedelta(hours=1))
    applied = await scoring.client.post("/v1/calibration/recalibrations", json=body, headers=cm)
    assert applied.status_code == 201, applied.text
    result = applied.json()
    assert (result["regraded"], result["pending"]) == (11, 0)
    first = result["calibration"]
    assert (first["version"], first["previous_version"], first["method"]) == (1, 0, "intercept")
    assert first["intercept"] > before["current"]["intercept"] and first["slope"] == before["current"]["slope"]
    assert first["backtest"]["mean_pd_after"] == pytest.approx(0.4, abs=1e-6) and first["backtest"]["defaults"] == 4
    assert first["applied_by"] and first["reason"] == body["reason"]
    survivor = await _score(scoring, strong[1])
    assert survivor["components"]["calibration_version"] == 1 and survivor["pd"] > at_start[strong[1]]["pd"]
    history = (await scoring.client.get(f"/v1/buyers/{strong[1]}/assessments", params={"limit": 1}, headers=sales)).json()
    assert history["items"][0]["trigger"] == "recalibration"

    # Logistic: with two kinds of score in the book the fit reproduces each kind's default rate.
    clock.set(YEAR_LATER + timedelta(hours=2))
    logistic = await scoring.client.post("/v1/calibration/recalibrations", json={**body, "method": "logistic"}, headers=cm)
    assert logistic.status_code == 201, logistic.text
    assert logistic.json()["calibration"]["version"] == 2
    assert (await _score(scoring, strong[1]))["pd"] == pytest.approx(0.2, abs=1e-4)  # 1 of 5 strong buyers defaulted
    assert (await _score(scoring, weak[3]))["pd"] == pytest.approx(0.6, abs=1e-4)  # 3 of 5 weak buyers
    assert (await _score(scoring, strong[0]))["grade"] == 10  # its invoice is 90+ days past due now: in default

    status = (await scoring.client.get("/v1/calibration", headers=scoring.auth("admin"))).json()
    assert status["current"]["version"] == 2 and [c["version"] for c in status["history"]] == [2, 1]

    # Each re-grade went out through the outbox: a buyer-assessed per buyer and recalibration.
    book = set(strong + weak)
    regraded_at = {(YEAR_LATER + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in (1, 2)} | {
        (YEAR_LATER + timedelta(hours=h)).isoformat() for h in (1, 2)
    }

    async def regrades_published():
        assessed = [e for e in await _events(broker, "buyer-assessed", book) if e["assessed_at"] in regraded_at]
        assert len(assessed) == 20 and {e["buyer_id"] for e in assessed} == book, len(assessed)
        changed = [e for e in await _events(broker, "score-changed", book) if e["assessed_at"] in regraded_at]
        assert any(e["buyer_id"] == strong[1] and e["new_grade"] > e["old_grade"] for e in changed), changed

    await eventually(regrades_published, timeout=30)


async def test_ninety_days_past_due_is_grade_ten_and_the_due_pass_catches_each_threshold(start_service, databases, broker, eventually):
    clock = Clock(fixed=START)
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, clock=clock)
    cm = scoring.auth("credit_manager")
    buyer = f"D-{uuid.uuid4().hex[:6]}"
    await _register(scoring, buyer, STRONG)
    due = date(2026, 1, 20)
    await _invoice(broker, buyer, due)

    async def invoice_arrived():
        body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=cm)).json()
        assert body["invoices_open"] == 1, body

    await eventually(invoice_arrived, timeout=30)
    grades, pds = [], []
    # No event arrives after the invoice: only the days passing move the buyer.
    for days in (5, 15, 30, 60, 90):
        clock.set(datetime.combine(due + timedelta(days=days), START.timetz()))
        run = await scoring.client.post("/v1/assessments/due/run", headers=cm)
        assert run.status_code == 200 and run.json()["assessed"] == 1, (days, run.text)
        again = await scoring.client.post("/v1/assessments/due/run", headers=cm)
        assert again.json()["assessed"] == 0, days  # the threshold is assessed once
        score = await _score(scoring, buyer)
        assert score["data"]["payment_behaviour"]["as_of"] == (due + timedelta(days=days)).isoformat()
        grades.append(score["grade"])
        pds.append(score["pd"])
    assert grades == sorted(grades) and pds == sorted(pds) and grades[2] > grades[0] and grades[3] > grades[2]
    assert pds[2] > 3 * pds[0] and pds[3] < 1.0 and grades[4] == 10 and pds[4] == 1.0  # 60 days: very high risk, not yet default
    # Later is never better: 153 days past due is still default.
    clock.set(datetime.combine(due + timedelta(days=153), START.timetz()))
    assert (await scoring.client.post("/v1/assessments/due/run", headers=cm)).json()["assessed"] == 0  # no new threshold
    manual = (await scoring.client.post(f"/v1/buyers/{buyer}/assessments", headers=cm)).json()
    assert manual["grade"] == 10 and manual["pd"] == 1.0
    assert manual["reasons"][0]["code"] == "PAYMENT_PAST_DUE" and "153 days past due (in default)" in manual["reasons"][0]["message"]

    async def default_published():
        # score-changed when the grade reached 10; every assessment, the default's PD of 1 included, as buyer-assessed.
        changed = [e for e in await _events(broker, "score-changed", {buyer}) if e["new_grade"] == 10]
        assert len(changed) == 1, changed
        assessed = await _events(broker, "buyer-assessed", {buyer})
        assert [e["pd"] for e in assessed][-2:] == pytest.approx([*pds[4:], 1.0]) and assessed[-1]["grade"] == 10

    await eventually(default_published, timeout=30)
