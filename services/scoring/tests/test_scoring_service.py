"""The scoring service on both databases and the real broker: assessments from statements,
payment events and profiles, their reasons, events, history, peers and bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from creditguard_scoring.assessment.repository import AssessmentRepository
from creditguard_shared.clock import Clock
from creditguard_shared.events.contracts import InvoicePostedV1, PaymentLateV1, PaymentReceivedV1, PromiseBrokenV1
from creditguard_shared.events.envelope import EventEnvelope
from services.scoring.tests.statements_fixtures import STRONG, WEAK
from tests.kafka_tools import publish_event, publish_raw, read_topic

PROBLEM = "application/problem+json"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _profile(**overrides) -> dict:
    return {
        "name": "Acme Fabrik GmbH",
        "country": "DE",
        "industry": "C",
        "legal_form": "GmbH",
        "founded_on": "2001-03-01",
        "registration_number": "HRB 1234",
        "group_id": "G-ACME",
        "account_owner": "sam@example.com",
        **overrides,
    }


async def _scoring(start_service, databases, broker, **overrides):
    return await start_service(
        "scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW), **overrides
    )


async def _register(scoring, buyer: str, statement: dict | None, **profile) -> None:
    response = await scoring.client.put(f"/v1/buyers/{buyer}", json=_profile(**profile), headers=scoring.auth("credit_manager"))
    assert response.status_code == 201, response.text
    if statement is not None:
        response = await scoring.client.post(f"/v1/buyers/{buyer}/financial-statements", json=statement, headers=scoring.auth("credit_manager"))
        assert response.status_code == 201, response.text


async def _events_for(broker, topic: str, buyer: str) -> list[dict]:
    return [EventEnvelope.from_bytes(r.value).data for r in await read_topic(broker.bootstrap_servers, topic) if r.key == buyer.encode()]


async def _pay(broker, buyer: str, number: int, *, due_on: date, paid_on: date, late_days: int | None = None, amount: str = "10000.00") -> list[EventEnvelope]:
    invoice_id = f"{buyer}-I{number}"
    sent = [
        await publish_event(
            broker.bootstrap_servers,
            InvoicePostedV1(
                invoice_id=invoice_id, buyer_id=buyer, amount=Decimal("10000.00"), currency="EUR", issued_on=due_on - timedelta(days=30), due_on=due_on
            ),
            subject=buyer,
        )
    ]
    if late_days:
        sent.append(
            await publish_event(
                broker.bootstrap_servers,
                PaymentLateV1(
                    invoice_id=invoice_id,
                    buyer_id=buyer,
                    days_past_due=late_days,
                    bucket=90 if late_days >= 90 else 30,
                    open_amount=Decimal("10000.00"),
                    currency="EUR",
                    due_on=due_on,
                    as_of=due_on + timedelta(days=late_days),
                ),
                subject=buyer,
            )
        )
    sent.append(
        await publish_event(
            broker.bootstrap_servers,
            PaymentReceivedV1(
                payment_id=f"{invoice_id}-P",
                buyer_id=buyer,
                invoice_id=invoice_id,
                amount=Decimal(amount),
                currency="EUR",
                paid_on=paid_on,
                unapplied_amount=max(Decimal(amount) - Decimal("10000.00"), Decimal("0.00")),
            ),
            subject=buyer,
        )
    )
    return sent


async def test_strong_clean_buyer_grades_better_than_loss_making_late_payer(start_service, databases, broker, eventually):
    scoring = await _scoring(start_service, databases, broker)
    # Alerts consumes what scoring publishes, over the broker: the risk classes are one enumeration.
    alerts = await start_service(
        "alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW), sweep_interval_seconds=3600
    )
    tag = uuid.uuid4().hex[:6]
    strong, weak = f"B-S-{tag}", f"B-W-{tag}"
    await _register(scoring, strong, STRONG)
    await _register(scoring, weak, WEAK, name="Wackel Bau GmbH", industry="41")
    for n in range(3):
        due = date(2026, 6, 1) + timedelta(days=30 * n)
        # The strong buyer overpays its first invoice (limits keeps 400 as unapplied cash): settled on time, nothing negative.
        await _pay(broker, strong, n, due_on=due, paid_on=due, amount="10400.00" if n == 0 else "10000.00")
        await _pay(broker, weak, n, due_on=due, paid_on=due + timedelta(days=95), late_days=90)

    async def behaviour_arrived():
        for buyer in (strong, weak):
            body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
            assert body["invoices_total"] == 3 and body["invoices_open"] == 0 and Decimal(body["open_amount"]) == 0, body

    await eventually(behaviour_arrived, timeout=60)
    run = await scoring.client.post("/v1/assessments/due/run", params={"force": True}, headers=scoring.auth("credit_manager"))
    assert run.status_code == 200 and run.json()["assessed"] == 2, run.text

    good = (await scoring.client.get(f"/v1/buyers/{strong}/score", headers=scoring.auth("erp"))).json()
    bad = (await scoring.client.get(f"/v1/buyers/{weak}/score", headers=scoring.auth("sales"))).json()
    assert good["grade"] < bad["grade"] and good["pd"] < bad["pd"], (good, bad)
    # The default calibration is fitted to a book with 7 % defaults a year: a strong buyer there still has a PD near 1 %.
    assert good["grade"] <= 5 and good["pd"] < 0.02 and bad["risk_class"] == "very_high"
    assert bad["grade"] == 10 and bad["pd"] >= 0.30
    bad_reasons = {r["code"]: r["contribution"] for r in bad["reasons"]}
    assert bad_reasons["FIN_PROFITABILITY"] > 0 and bad_reasons["PAYMENT_INDEX"] > 0, bad["reasons"]
    assert any(r["code"] == "PAYMENT_INDEX" and r["contribution"] < 0 for r in await _all_reasons(scoring, strong))
    assert all(set(r) == {"code", "message", "contribution"} for r in bad["reasons"])
    assert bad["model_version"].startswith("creditguard-combined-1+financial-strength")
    assert bad["data"]["statement"]["fiscal_year"] == 2025 and bad["data"]["statement"]["age_days"] == (NOW.date() - date(2025, 12, 31)).days

    async def every_assessment_published():
        assessed = await _events_for(broker, "buyer-assessed", weak)
        # Registration, statement, payment behaviour: each completed assessment is published with the reference data.
        assert len(assessed) == 3, assessed
        assert assessed[-1]["financial_data_missing"] is False and Decimal(assessed[-1]["equity"]) == Decimal("500000")
        assert assessed[0]["financial_data_missing"] is True and assessed[0]["account_owner"] == "sam@example.com"

    await eventually(every_assessment_published, timeout=30)

    moves = [(e["old_risk_class"], e["new_risk_class"]) for e in await _events_for(broker, "score-changed", weak)]
    assert moves[-1][1] == "very_high" and any(old in ("low", "medium", "high") and new == "very_high" for old, new in moves), moves

    async def alerts_saw_the_worst_class():
        profile = (await alerts.client.get(f"/v1/buyers/{weak}/profile", headers=alerts.auth("sales"))).json()
        assert (profile.get("risk_class"), profile.get("grade")) == ("very_high", 10), profile
        found = (await alerts.client.get("/v1/alerts", params={"buyer_id": weak, "rule_type": "risk_class_worsened"}, headers=alerts.auth("sales"))).json()
        assert [a["details"]["new_risk_class"] for a in found["items"]] == ["very_high"], found

    await eventually(alerts_saw_the_worst_class, timeout=30)
    assert scoring.metric("creditguard_assessments_total", trigger="payment_behaviour") == 2
    assert scoring.metric("creditguard_assessments_total", trigger="statement") == 2
    assert scoring.metric("creditguard_assessment_duration_seconds_count") == 6


async def _all_reasons(scoring, buyer: str) -> list[dict]:
    history = (await scoring.client.get(f"/v1/buyers/{buyer}/assessments", headers=scoring.auth("credit_manager"))).json()
    return history["items"][0]["reasons"]


async def test_late_payments_move_index_then_grade_and_publish_score_changed_once(start_service, databases, broker, eventually):
    scoring = await _scoring(start_service, databases, broker, rescore_interval_seconds=3600)
    buyer = f"B-L-{uuid.uuid4().hex[:6]}"
    await _register(scoring, buyer, STRONG)
    first = (await scoring.client.get(f"/v1/buyers/{buyer}/score", headers=scoring.auth("sales"))).json()
    sent = []
    for n in range(4):
        due = date(2026, 5, 1) + timedelta(days=30 * n)
        sent += await _pay(broker, buyer, n, due_on=due, paid_on=due + timedelta(days=100), late_days=90)

    async def index_dropped():
        body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
        assert body["invoices_total"] == 4 and body["invoices_open"] == 0, body
        assert body["payment_index"] < 40 and body["worst_days_past_due_12m"] >= 90, body

    await eventually(index_dropped, timeout=60)
    # Inside the debounce window nothing is re-assessed: a burst of events re-scores once, later.
    assert (await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))).json()["assessed"] == 0
    scoring.clock.advance(timedelta(minutes=2))
    assert (await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))).json()["assessed"] == 1
    after = (await scoring.client.get(f"/v1/buyers/{buyer}/score", headers=scoring.auth("sales"))).json()
    assert after["grade"] > first["grade"], (first, after)
    assert after["reasons"][0]["code"] == "PAYMENT_INDEX" and after["reasons"][0]["contribution"] > 1

    # Replayed events (same bytes) and a new pass: nothing changes, no second score-changed.
    await publish_raw(broker.bootstrap_servers, "payment-late", [(buyer.encode(), e.to_bytes(), []) for e in sent if e.type.endswith("late.v1")])
    await eventually(lambda: _duplicates_seen(scoring), timeout=30)
    scoring.clock.advance(timedelta(minutes=2))
    await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))

    async def one_downgrade_published():
        changes = await _events_for(broker, "score-changed", buyer)
        downgrades = [c for c in changes if c["old_grade"] == first["grade"]]
        assert len(downgrades) == 1, changes
        assert downgrades[0]["old_grade"] == first["grade"] and downgrades[0]["new_grade"] == after["grade"]
        assert downgrades[0]["reasons"][0]["code"] == "PAYMENT_INDEX"

    await eventually(one_downgrade_published, timeout=30)
    assert scoring.metric("creditguard_score_changes_total", direction="downgrade") == 1
    assert scoring.metric("creditguard_score_changes_total", direction="upgrade") == 1  # the statement lifted it first


async def test_broken_promises_to_pay_count_once_each_and_worsen_the_pd(start_service, databases, broker, eventually):
    scoring = await _scoring(start_service, databases, broker, rescore_interval_seconds=3600)
    buyer = f"B-P-{uuid.uuid4().hex[:6]}"
    await _register(scoring, buyer, STRONG)
    first = (await scoring.client.get(f"/v1/buyers/{buyer}/score", headers=scoring.auth("sales"))).json()

    def broken(case: str, promised_until: date) -> PromiseBrokenV1:
        return PromiseBrokenV1(
            buyer_id=buyer,
            case_id=f"{buyer}-{case}",
            invoice_id=f"{buyer}-I{case}",
            promised_until=promised_until,
            promised_amount=Decimal("5000.00"),
            broken_on=promised_until + timedelta(days=1),
        )

    # The same broken promise told twice (another event id) counts once; another case's promise counts too.
    for event in (broken("1", date(2026, 10, 20)), broken("1", date(2026, 10, 20)), broken("2", date(2026, 10, 25))):
        await publish_event(broker.bootstrap_servers, event, subject=buyer)

    async def counted():
        body = (await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))).json()
        assert body["broken_promises_12m"] == 2, body
        assert scoring.metric("creditguard_events_consumed_total", topic="promise-broken", outcome="processed") == 3

    await eventually(counted, timeout=30)
    run = await scoring.client.post("/v1/assessments/due/run", params={"force": True}, headers=scoring.auth("credit_manager"))
    assert run.status_code == 200 and run.json()["assessed"] == 1, run.text
    after = (await scoring.client.get(f"/v1/buyers/{buyer}/score", headers=scoring.auth("sales"))).json()
    assert after["pd"] > first["pd"] and after["grade"] >= first["grade"], (first, after)
    promised = [r for r in after["reasons"] if r["code"] == "PAYMENT_PROMISE_BROKEN"]
    assert [(r["message"], r["contribution"]) for r in promised] == [("2 promises to pay broken in the last 12 months", pytest.approx(0.8))]


async def _duplicates_seen(scoring):
    assert scoring.metric("creditguard_events_consumed_total", topic="payment-late", outcome="duplicate") >= 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"total_assets": "-5"}, "total assets cannot be negative"),
        ({"sales": "lots"}, "sales"),
        ({"currency": "XYZ"}, "currency"),
        ({"equity": "100"}, "total liabilities + equity do not equal total assets"),
    ],
)
async def test_bad_statements_are_422_problems(start_service, databases, broker, change, message):
    if databases.backend == "postgresql" and change != {"total_assets": "-5"}:
        pytest.skip("validation does not touch the database; one case on PostgreSQL is enough")
    scoring = await _scoring(start_service, databases, broker, consumers_enabled=False)
    buyer = f"B-X-{uuid.uuid4().hex[:6]}"
    await _register(scoring, buyer, None)
    response = await scoring.client.post(f"/v1/buyers/{buyer}/financial-statements", json={**STRONG, **change}, headers=scoring.auth("credit_manager"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert message in response.text
    history = (await scoring.client.get(f"/v1/buyers/{buyer}/assessments", headers=scoring.auth("sales"))).json()
    assert history["total"] == 1 and history["items"][0]["financial_data_missing"] is True


async def test_profile_without_statements_adverse_events_history_peers_and_listing(start_service, databases, broker):
    scoring = await _scoring(start_service, databases, broker, consumers_enabled=False)
    tag = uuid.uuid4().hex[:6]
    buyers = [f"B-P{i}-{tag}" for i in range(3)]
    await _register(scoring, buyers[0], None, country="FR", industry="F")
    await _register(scoring, buyers[1], STRONG, country="FR", industry="41")
    await _register(scoring, buyers[2], WEAK, country="FR", industry="43.1")
    cm, sales = scoring.auth("credit_manager"), scoring.auth("sales")

    unknown = (await scoring.client.get(f"/v1/buyers/{buyers[0]}/score", headers=sales)).json()
    assert unknown["financial_data_missing"] is True
    assert unknown["reasons"][0]["code"] == "FINANCIAL_DATA_MISSING" and unknown["reasons"][0]["contribution"] > 0

    # Writes need credit_manager; the erp may read the score but not the profile.
    assert (await scoring.client.put(f"/v1/buyers/{buyers[0]}", json=_profile(), headers=sales)).status_code == 403
    assert (await scoring.client.get(f"/v1/buyers/{buyers[0]}", headers=scoring.auth("erp"))).status_code == 403
    assert (await scoring.client.get("/v1/buyers/nobody/score", headers=sales)).status_code == 404
    bad_country = await scoring.client.put(f"/v1/buyers/{buyers[0]}", json=_profile(country="XX"), headers=cm)
    assert bad_country.status_code == 422 and bad_country.json()["errors"][0]["field"] == "country"

    # An unchanged profile re-sent is not a change; an open insolvency filing means default.
    again = await scoring.client.put(f"/v1/buyers/{buyers[1]}", json=_profile(country="FR", industry="41"), headers=cm)
    assert again.status_code == 200
    filing = {"event_id": f"INS-{tag}", "kind": "insolvency_filing", "occurred_on": "2026-10-20", "source": "Bundesanzeiger"}
    assert (await scoring.client.post(f"/v1/buyers/{buyers[1]}/adverse-events", json=filing, headers=cm)).status_code == 201
    assert (await scoring.client.post(f"/v1/buyers/{buyers[1]}/adverse-events", json=filing, headers=cm)).status_code == 200
    defaulted = (await scoring.client.get(f"/v1/buyers/{buyers[1]}/score", headers=sales)).json()
    assert defaulted["grade"] == 10 and defaulted["reasons"][0]["code"] == "ADVERSE_INSOLVENCY_FILING"
    history = (await scoring.client.get(f"/v1/buyers/{buyers[1]}/assessments", headers=sales)).json()
    assert [a["trigger"] for a in history["items"]] == ["profile", "statement", "profile"]
    assert history["items"][1]["inputs"]["ratios"]["X29"] is None and history["items"][1]["inputs"]["ratios"]["X1"] == 0.15

    manual = await scoring.client.post(f"/v1/buyers/{buyers[2]}/assessments", headers=cm)
    assert manual.status_code == 201 and manual.json()["trigger"] == "api"

    peers = (await scoring.client.get(f"/v1/buyers/{buyers[2]}/peers", headers=sales)).json()
    assert peers["industry_section"] == "F"
    assert peers["industry_and_country"]["pd"]["peers"] == 3
    # Riskier than the buyer without statements (at the base rate), safer than the one in default (PD 1).
    assert peers["industry_and_country"]["pd"]["better_than"] == 50.0
    assert peers["industry_and_country"]["equity_ratio"]["peers"] == 2

    listing = (await scoring.client.get("/v1/buyers", params={"country": "FR", "industry": "F", "limit": 2}, headers=sales)).json()
    assert listing["total"] == 3 and len(listing["items"]) == 2
    tens = (await scoring.client.get("/v1/buyers", params={"grade": 10, "country": "FR"}, headers=sales)).json()
    assert {b["buyer_id"] for b in tens["items"]} >= {buyers[1]}
    assert (await scoring.client.get("/v1/buyers", params={"industry": "99x"}, headers=sales)).status_code == 422

    # Search by part of the name (any case) or the start of the id; by owner; by ids; riskiest first.
    await scoring.client.put(
        f"/v1/buyers/{buyers[2]}", json=_profile(country="FR", industry="43.1", name="Bäckerei 100% Öko", account_owner="ana@example.com"), headers=cm
    )
    named = (await scoring.client.get("/v1/buyers", params={"q": "BÄCKEREI 100%"}, headers=sales)).json()
    assert [b["buyer_id"] for b in named["items"]] == [buyers[2]]
    assert (await scoring.client.get("/v1/buyers", params={"q": "0%_"}, headers=sales)).json()["total"] == 0  # % and _ are text
    by_id = (await scoring.client.get("/v1/buyers", params={"q": f"b-p1-{tag}"}, headers=sales)).json()
    assert [b["buyer_id"] for b in by_id["items"]] == [buyers[1]]
    owned = (await scoring.client.get("/v1/buyers", params={"account_owner": "ana@example.com"}, headers=sales)).json()
    assert [b["buyer_id"] for b in owned["items"]] == [buyers[2]]
    chosen = (await scoring.client.get("/v1/buyers", params=[("buyer_id", buyers[0]), ("buyer_id", buyers[1])], headers=sales)).json()
    assert {b["buyer_id"] for b in chosen["items"]} == {buyers[0], buyers[1]}
    riskiest = (await scoring.client.get("/v1/buyers", params={"country": "FR", "sort": "-pd"}, headers=sales)).json()["items"]
    assert riskiest[0]["buyer_id"] == buyers[1] and [b["pd"] for b in riskiest] == sorted((b["pd"] for b in riskiest), reverse=True)
    ids = (await scoring.client.get("/v1/buyer-ids", params={"country": "FR", "limit": 2}, headers=sales)).json()
    assert ids == {"buyer_ids": sorted(buyers)[:2], "truncated": True}
    assert (await scoring.client.get("/v1/buyer-ids", params={"account_owner": "ana@example.com"}, headers=sales)).json()["buyer_ids"] == [buyers[2]]

    batch = (await scoring.client.post("/v1/assessments/batch", headers=cm)).json()
    assert batch["assessed"] == 3 and batch["failed"] == 0
    assert scoring.metric("creditguard_assessments_total", trigger="batch") == 3


async def test_due_pass_commits_in_batches_and_one_failing_buyer_holds_back_no_other(start_service, databases, broker):
    """The pass re-assesses twenty buyers per transaction; when one buyer's assessment cannot be
    stored (here the database refuses it), its batch is rolled back and redone buyer by buyer."""
    from sqlalchemy import func, select, text

    from creditguard_scoring.assessment.service import REASSESSMENTS_PER_TRANSACTION
    from creditguard_scoring.models.assessment import ReassessmentDue

    scoring = await _scoring(start_service, databases, broker)
    tag = uuid.uuid4().hex[:6]
    buyers = [f"B-D{n:02d}-{tag}" for n in range(REASSESSMENTS_PER_TRANSACTION + 5)]
    refused = buyers[3]
    for buyer in buyers:
        await _register(scoring, buyer, None)
    runtime = scoring.runtime
    async with runtime.uow_factory() as uow:
        for buyer in buyers:
            uow.session.add(ReassessmentDue(buyer_id=buyer, due_at=NOW, latest_at=NOW, marks=1))
        await uow.commit()
    async with runtime.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            await connection.execute(
                text(f"CREATE TRIGGER refuse_one BEFORE INSERT ON assessments WHEN NEW.buyer_id = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )
        else:
            await connection.execute(
                text(
                    f"CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN IF NEW.buyer_id = '{refused}' "
                    "THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            await connection.execute(text("CREATE TRIGGER refuse_one BEFORE INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION refuse_one()"))

    run = await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))
    assert run.status_code == 200 and run.json()["assessed"] == len(buyers) - 1, run.text

    async with runtime.uow_factory() as uow:
        still_due = list((await uow.session.execute(select(ReassessmentDue.buyer_id))).scalars())
        counts = dict((await uow.session.execute(text("SELECT buyer_id, count(*) FROM assessments GROUP BY buyer_id"))).all())
    assert still_due == [refused]
    # Registration assessed each buyer once; the pass once more, except the refused one.
    assert counts == {buyer: 1 if buyer == refused else 2 for buyer in buyers}, counts

    async with runtime.engine.begin() as connection:
        await connection.execute(text("DROP TRIGGER refuse_one" if connection.dialect.name == "sqlite" else "DROP TRIGGER refuse_one ON assessments"))
    assert (await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))).json()["assessed"] == 1
    async with runtime.uow_factory() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(ReassessmentDue))).scalar_one() == 0


async def test_due_pass_reads_each_batch_at_once_and_assesses_as_one_by_one(start_service, databases, broker):
    """The pass reads a batch's due marks, scores, profiles, statements, payment experiences and
    adverse events in a few statements for all its buyers; each assessment must come out as a
    re-assessment of that buyer alone (POST /assessments, no read-ahead) does."""
    from sqlalchemy import event

    from creditguard_scoring.assessment.service import REASSESSMENTS_PER_TRANSACTION
    from creditguard_scoring.models.assessment import ReassessmentDue
    from creditguard_scoring.models.payment_behaviour import BrokenPromise, PaymentExperience

    scoring = await _scoring(start_service, databases, broker)
    tag = uuid.uuid4().hex[:6]
    buyers = [f"B-R{n:02d}-{tag}" for n in range(REASSESSMENTS_PER_TRANSACTION + 5)]
    for n, buyer in enumerate(buyers):
        await _register(scoring, buyer, [STRONG, WEAK, None][n % 3])
        if n % 4 == 0:
            response = await scoring.client.post(
                f"/v1/buyers/{buyer}/adverse-events",
                headers=scoring.auth("credit_manager"),
                json={"event_id": f"J-{buyer}", "kind": "court_judgment", "occurred_on": "2026-09-01", "source": "test"},
            )
            assert response.status_code == 201, response.text
    runtime = scoring.runtime
    async with runtime.uow_factory() as uow:
        for n, buyer in enumerate(buyers):
            for k in range(n % 3):
                due_on = date(2026, 8, 1) + timedelta(days=20 * k)
                uow.session.add(
                    PaymentExperience(
                        invoice_id=f"{buyer}-I{k}",
                        buyer_id=buyer,
                        amount=Decimal("5000.00"),
                        currency="EUR",
                        issued_on=due_on - timedelta(days=30),
                        due_on=due_on,
                        open_amount=Decimal(0) if k else Decimal("5000.00"),
                        settled_on=due_on + timedelta(days=10 * n) if k else None,
                        max_days_past_due=10 * n if k else 0,
                    )
                )
            for k in range(n % 5 // 3):
                uow.session.add(
                    BrokenPromise(
                        case_id=f"C-{buyer}-{k}",
                        promised_until=date(2026, 9, 1),
                        buyer_id=buyer,
                        invoice_id=f"{buyer}-I0",
                        promised_amount=None,
                        broken_on=date(2026, 9, 2),
                    )
                )
            uow.session.add(ReassessmentDue(buyer_id=buyer, due_at=NOW, latest_at=NOW, marks=1))
        await uow.commit()

    reads: list[str] = []

    def count_reads(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "outbox_events" not in statement:
            reads.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count_reads)
    try:
        run = await scoring.client.post("/v1/assessments/due/run", headers=scoring.auth("credit_manager"))
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count_reads)
    assert run.status_code == 200 and run.json()["assessed"] == len(buyers), run.text
    # One by one, each buyer took nine reads; read ahead, each batch of twenty takes six.
    assert len(reads) < len(buyers), reads

    for buyer in buyers:
        alone = await scoring.client.post(f"/v1/buyers/{buyer}/assessments", headers=scoring.auth("credit_manager"))
        assert alone.status_code == 201, alone.text
        history = (await scoring.client.get(f"/v1/buyers/{buyer}/assessments", headers=scoring.auth("sales"))).json()["items"]
        alone, by_pass = history[0], history[1]
        assert by_pass["trigger"] == "payment_behaviour"
        compared = ("pd", "grade", "risk_class", "reasons", "components")
        assert {k: by_pass[k] for k in compared} == {k: alone[k] for k in compared}, buyer


async def test_two_batches_marking_the_same_buyers_in_opposite_orders_do_not_deadlock(start_service, databases, broker):
    # Two consumers' batches (say payment-received and payment-late) mark the same two buyers for
    # re-assessment in opposite orders. Their read-ahead locks the due marks in buyer order first,
    # so the second batch waits for the first instead of PostgreSQL aborting one as a deadlock
    # (and its handlers running again, message by message). SQLite serialises writers anyway.
    if databases.backend != "postgresql":
        pytest.skip("row locks and deadlocks are PostgreSQL's; SQLite has one writer at a time")
    scoring = await _scoring(start_service, databases, broker, consumers_enabled=False)
    context, new_uow = scoring.app.state.scoring, scoring.runtime.uow_factory
    first, second = f"B-A-{uuid.uuid4().hex[:6]}", f"B-Z-{uuid.uuid4().hex[:6]}"
    async with new_uow() as uow:
        for buyer in (first, second):
            await context.reassessment.mark_due(uow, buyer_id=buyer, now=NOW)
        await uow.commit()

    async def batch(order: tuple[str, str], *, between=None) -> None:
        async with new_uow() as uow:
            await context.reassessment.read_ahead_dues(uow, buyer_ids=set(order))
            await context.reassessment.mark_due(uow, buyer_id=order[0], now=NOW)
            if between is not None:
                await between()
            await context.reassessment.mark_due(uow, buyer_id=order[1], now=NOW)
            await uow.commit()

    other: asyncio.Task[None] | None = None

    async def start_the_other_batch() -> None:
        nonlocal other
        other = asyncio.create_task(batch((first, second)))
        await asyncio.sleep(0.5)  # long enough for it to lock what it can

    await batch((second, first), between=start_the_other_batch)
    assert other is not None
    await asyncio.wait_for(other, timeout=30)
    async with new_uow() as uow:
        marks = {buyer: (await AssessmentRepository(uow.session).get_due(buyer)).marks for buyer in (first, second)}
    assert marks == {first: 3, second: 3}
