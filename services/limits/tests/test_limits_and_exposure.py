"""Temporary increases, group limits, ramp-up, FX, insurance, audit, events, portfolio and forecast."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.limits.tests.helpers import check, codes, emitted, exposure, money, new_buyer, post_invoice, set_limit


async def test_temporary_increase_applies_within_its_window_and_reverts(limits, broker, eventually):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    response = await limits.client.post(
        f"/v1/buyers/{buyer}/temporary-increases",
        headers=limits.auth("credit_manager"),
        json={"amount": "5000.00", "valid_from": "2026-12-01", "valid_until": "2026-12-10", "reason": "seasonal peak"},
    )
    assert response.status_code == 201, response.text
    limit = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    assert money(limit["effective_limit"]) == Decimal("15000.00") and money(limit["amount"]) == Decimal("10000.00")
    assert (await check(limits, buyer, f"{buyer}-O1", "8000.00"))["decision"] == "approved"
    assert (await check(limits, buyer, f"{buyer}-O1b", "6000.00"))["decision"] == "approved"
    limits.clock.advance(timedelta(days=10))
    body = await exposure(limits, buyer)
    assert money(body["limit"]) == Decimal("10000.00")
    assert (await check(limits, buyer, f"{buyer}-O2", "10.00"))["decision"] == "rejected"  # 40% over the reverted limit
    swept = (await limits.client.post("/v1/sweeps/daily", headers=limits.auth("credit_manager"))).json()
    assert swept["temporary_increases_ended"] == 1

    async def announced():
        events = await emitted(limits, "limit-changed", buyer)
        assert [Decimal(e["new_amount"]) for e in events if e["buyer_id"] == buyer] == [Decimal("10000.00"), Decimal("15000.00"), Decimal("10000.00")]
        # Every announcement says when the limit is due for review: alerts' review-overdue rule needs it.
        assert [e["review_due_on"] for e in events] == ["2027-06-30"] * 3

    await eventually(announced)
    audit = (await limits.client.get(f"/v1/buyers/{buyer}/limit/audit", headers=limits.auth("sales"))).json()
    assert [a["action"] for a in audit] == ["limit_set", "temporary_increase_added"]
    assert audit[0]["new_values"]["limit_amount"] == "10000.00" and audit[0]["reason"] == "annual review" and audit[0]["changed_by"].startswith("key_")


async def test_group_limit_caps_its_members(limits):
    first, second = new_buyer(), new_buyer()
    group = f"G-{first}"
    for buyer in (first, second):
        await set_limit(limits, buyer, "10000.00")
        response = await limits.client.put(
            f"/v1/buyers/{buyer}/group", headers=limits.auth("credit_manager"), json={"group_id": group, "reason": "same parent"}
        )
        assert response.status_code == 200, response.text
    response = await limits.client.put(
        f"/v1/groups/{group}/limit", headers=limits.auth("credit_manager"), json={"amount": "12000.00", "currency": "EUR", "reason": "parent guarantee"}
    )
    assert response.status_code == 200, response.text
    assert (await check(limits, first, f"{first}-O1", "8000.00"))["decision"] == "approved"
    body = await exposure(limits, second)
    assert money(body["available"]) == Decimal("4000.00") and money(body["group"]["exposure"]) == Decimal("8000.00")
    refused = await check(limits, second, f"{second}-O1", "5000.00")
    assert refused["decision"] == "referred" and codes(refused) == {"group_limit_exceeded"}
    group_body = (await limits.client.get(f"/v1/groups/{group}/limit", headers=limits.auth("sales"))).json()
    assert group_body["members"] == sorted([first, second]) and money(group_body["available"]) == Decimal("4000.00")


async def test_fx_conversion_into_the_limit_currency(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00", currency="EUR")
    missing = await limits.client.post(
        "/v1/credit-checks",
        headers=limits.auth("erp"),
        json={"buyer_id": buyer, "order_id": f"{buyer}-O0", "amount": "100.00", "currency": "USD", "payment_terms_days": 30},
    )
    assert missing.status_code == 422
    assert (await limits.client.put("/v1/fx-rates/USD", headers=limits.auth("erp"), json={"rate": "0.9"})).status_code == 403
    assert (await limits.client.put("/v1/fx-rates/USD", headers=limits.auth("credit_manager"), json={"rate": "0.9"})).status_code == 200
    await post_invoice(limits, buyer, f"{buyer}-I1", "5000.00", currency="USD")
    decision = await check(limits, buyer, f"{buyer}-O1", "6000.00", currency="USD")
    assert money(decision["exposure_before"]) == Decimal("4500.00") and money(decision["exposure_after"]) == Decimal("9900.00")
    assert decision["decision"] == "approved"
    # The dollar strengthens: the same open items now exceed the limit.
    await limits.client.put("/v1/fx-rates/USD", headers=limits.auth("credit_manager"), json={"rate": "1.0"})
    assert money((await exposure(limits, buyer))["exposure"]) == Decimal("11000.00")


async def test_ramp_up_follows_invoices_paid_on_time(limits):
    from datetime import UTC, datetime

    from creditguard_limits.accounts import service as accounts_service
    from creditguard_shared.events.contracts import BuyerAssessedV1

    buyer = new_buyer()
    context = limits.app.state.limits
    async with limits.runtime.uow_factory() as uow:
        await accounts_service.record_assessment(
            uow,
            context=context,
            assessment=BuyerAssessedV1(
                buyer_id=buyer,
                assessment_id="A1",
                assessed_at=datetime(2026, 11, 30, tzinfo=UTC),
                model_version="m1",
                pd=0.01,
                grade=3,
                risk_class="low",
                country="DE",
                industry="retail",
                financial_data_missing=False,
                equity=Decimal("2000000"),
                sales=Decimal("9000000"),
                statement_currency="EUR",
            ),
        )
        await uow.commit()
    limit = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    # Grade 3: the smallest of the grade's maximum and its shares of equity and sales; a new buyer starts at 25%.
    row = context.policy.current.grades[3]
    capacity = min(row.max_limit, Decimal("2000000") * row.equity_share, Decimal("9000000") * row.sales_share)
    assert money(limit["recommendation"]["capacity_limit"]) == capacity
    assert money(limit["amount"]) == capacity / 4 and limit["limit_source"] == "policy"
    await post_invoice(limits, buyer, f"{buyer}-I1", "1000.00", due_on="2026-12-20")
    paid = await limits.client.post(
        "/v1/payments",
        headers=limits.auth("erp"),
        json={"payment_id": f"{buyer}-P1", "buyer_id": buyer, "invoice_id": f"{buyer}-I1", "amount": "1000.00", "currency": "EUR", "paid_on": "2026-11-28"},
    )
    assert paid.status_code == 201
    limit = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    assert money(limit["amount"]) == capacity * Decimal("0.40")  # 40% after one invoice paid on time
    # A manual limit stops the policy from moving it.
    await set_limit(limits, buyer, "50000.00")
    assert (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()["limit_source"] == "manual"


async def test_insurance_cover_uninsured_exposure_and_reduction(limits, broker, eventually):
    buyer = new_buyer()
    await set_limit(limits, buyer, "50000.00")
    policy = {
        "insurer": "Atradius",
        "indemnity_percentage": "90",
        "max_credit_period_days": 60,
        "report_overdue_within_days": 60,
        "file_claim_within_days": 150,
        "uninsured_action": "approved_with_conditions",
    }
    assert (await limits.client.put("/v1/insurance/policies/P-1", headers=limits.auth("credit_manager"), json=policy)).status_code == 200
    cover = {"policy_id": "P-1", "currency": "EUR", "requested_amount": "30000.00", "granted_amount": "15000.00"}
    assert (await limits.client.put(f"/v1/buyers/{buyer}/insurance-cover", headers=limits.auth("credit_manager"), json=cover)).status_code == 200
    covered = await check(limits, buyer, f"{buyer}-O1", "10000.00")
    assert covered["decision"] == "approved"
    partly = await check(limits, buyer, f"{buyer}-O2", "10000.00")
    assert partly["decision"] == "approved_with_conditions" and codes(partly) == {"uninsured_exposure"}
    assert partly["conditions"][0]["code"] == "prepayment" and money(partly["conditions"][0]["amount"]) == Decimal("5000.00")
    body = await exposure(limits, buyer)
    assert (money(body["insured"]), money(body["uninsured"])) == (Decimal("15000.00"), Decimal("5000.00"))
    # The insurer cuts the cover: the account is flagged and its review brought forward.
    await limits.client.put(f"/v1/buyers/{buyer}/insurance-cover", headers=limits.auth("credit_manager"), json=cover | {"granted_amount": "5000.00"})
    limit = (await limits.client.get(f"/v1/buyers/{buyer}/limit", headers=limits.auth("sales"))).json()
    assert "cover_reduced" in limit["flags"] and limit["review_on"] == "2026-12-01"

    async def announced():
        events = await emitted(limits, "insurance-cover-changed", buyer)
        assert [e["insured_amount"] for e in events if e["buyer_id"] == buyer] == ["15000.00", "5000.00"]
        # The review brought forward is announced with the unchanged limit.
        changes = await emitted(limits, "limit-changed", buyer)
        assert [(e["new_amount"], e["review_due_on"]) for e in changes] == [("50000.00", "2027-06-30"), ("50000.00", "2026-12-01")]

    await eventually(announced)


async def test_lowering_below_exposure_flags_and_publishes_breach(limits, broker, eventually):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "8000.00")
    lowered = await set_limit(limits, buyer, "5000.00")
    assert lowered["flags"] == ["limit_below_exposure"]

    async def breached():
        events = await emitted(limits, "limit-breached", buyer)
        mine = [e for e in events if e["buyer_id"] == buyer]
        assert [(e["exposure"], e["excess"]) for e in mine] == [("8000.00", "3000.00")]
        changes = await emitted(limits, "exposure-changed", buyer)
        mine = [(c["limit"], c["exposure"]) for c in changes if c["buyer_id"] == buyer]
        assert mine[0] == ("10000.00", "0.00") and mine[-1] == ("5000.00", "8000.00"), mine

    await eventually(breached)


async def test_portfolio_and_cash_in_forecast(limits):
    first, second = new_buyer(), new_buyer()
    await set_limit(limits, first, "10000.00")
    await set_limit(limits, second, "10000.00")
    await post_invoice(limits, first, f"{first}-I1", "9000.00", due_on="2026-12-10")
    await post_invoice(limits, second, f"{second}-I1", "3000.00", due_on="2026-11-20")
    body = (await limits.client.get("/v1/portfolio", headers=limits.auth("credit_manager"))).json()
    assert money(body["total_exposure"]) == Decimal("12000.00")
    assert body["utilisation_distribution"] == {"0-50": 1, "50-80": 0, "80-100": 1, "100+": 0}
    assert body["top_buyers"][0] == {"key": first, "exposure": "9000.00", "share": 0.75}
    assert body["herfindahl_index"] == 0.625
    assert money(body["overdue_by_bucket"]["1-15"]) == Decimal("3000.00")
    forecast = (await limits.client.get("/v1/forecast/cash-in?weeks=4", headers=limits.auth("credit_manager"))).json()
    # Unassessed buyers: PD 5%, LGD 85% (economics.loss_given_default), nothing insured -> 4.25% expected loss.
    assert money(forecast["expected_loss"]) == Decimal("510.00")
    assert [money(w["expected_collections"]) for w in forecast["weeks"]] == [Decimal("2872.50"), Decimal("8617.50"), Decimal("0.00"), Decimal("0.00")]
    refreshed = await limits.client.post("/v1/portfolio/metrics/refresh", headers=limits.auth("credit_manager"))
    assert refreshed.status_code == 200
    metrics = (await limits.client.get("/metrics")).text
    assert "creditguard_portfolio_exposure_amount 12000.0" in metrics
    assert 'creditguard_portfolio_buyers_by_utilisation{bucket="80-100"} 1.0' in metrics
    assert 'creditguard_portfolio_overdue_amount{bucket="1-15"} 3000.0' in metrics


async def test_invoicing_an_order_releases_its_reservation_in_the_published_exposure(limits):
    """The exposure-changed event of the invoicing transaction must already see the released
    reservation (alerts' utilisation rules act on it), not count the order twice."""
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00")
    decision = await check(limits, buyer, f"{buyer}-SO1", "8000.00")
    assert decision["decision"] == "approved", decision["reasons"]
    await post_invoice(limits, buyer, f"{buyer}-INV1", "8000.00", order_id=f"{buyer}-SO1")
    current = await exposure(limits, buyer)
    assert money(current["open_orders"]) == 0 and money(current["exposure"]) == money("8000.00")
    last_published = (await emitted(limits, "exposure-changed", buyer))[-1]
    assert money(last_published["open_orders"]) == 0
    assert money(last_published["exposure"]) == money("8000.00")


async def test_a_batch_of_assessments_reads_its_accounts_at_once_and_decides_as_one_by_one(limits):
    """The accounts consumer's read-ahead (accounts locked, terms and totals read for the whole
    batch) gives the limits and exposure events that one event at a time gives."""
    from datetime import UTC, datetime

    from creditguard_limits.accounts import handlers
    from creditguard_shared.events.contracts import BuyerAssessedV1

    def assessed(buyer_id: str, *, grade: int, hour: int) -> BuyerAssessedV1:
        return BuyerAssessedV1(
            buyer_id=buyer_id,
            assessment_id=f"A-{buyer_id}-{hour}",
            assessed_at=datetime(2026, 11, 30, hour, tzinfo=UTC),
            model_version="m1",
            pd=0.01 * grade,
            grade=grade,
            risk_class="low",
            country="DE",
            industry="retail",
            financial_data_missing=False,
            equity=Decimal("2000000"),
            sales=Decimal("9000000"),
            statement_currency="EUR",
        )

    known, new = new_buyer(), new_buyer()
    context = limits.app.state.limits
    on_assessed = {s.topic: s.handler for s in handlers.subscriptions(context)}["buyer-assessed"]
    async with limits.runtime.uow_factory() as uow:
        await on_assessed(uow, assessed(known, grade=2, hour=8), None)
        await uow.commit()
    await post_invoice(limits, known, f"{known}-I1", "1000.00")
    assert (await check(limits, known, f"{known}-O1", "500.00"))["decision"] == "approved"

    # A new grade moves the policy limit, which republishes the exposure; an older assessment
    # of the same buyer arrives after the newer one in the same batch.
    batch = [assessed(known, grade=3, hour=10), assessed(new, grade=4, hour=10), assessed(known, grade=5, hour=9)]
    async with limits.runtime.uow_factory() as uow:
        await handlers.read_ahead(context)(uow, batch)
        for event in batch:
            await on_assessed(uow, event, None)
        published = [e.data for e in uow.emitted if e.type == "creditguard.exposure.changed.v1"]
        await uow.commit()

    limit = (await limits.client.get(f"/v1/buyers/{known}/limit", headers=limits.auth("sales"))).json()
    assert limit["grade"] == 3 and limit["limit_source"] == "policy"
    assert (await limits.client.get(f"/v1/buyers/{new}/limit", headers=limits.auth("sales"))).json()["grade"] == 4
    # The exposure read ahead (an open invoice and an open order) is what the event carries.
    mine = [p for p in published if p["buyer_id"] == known]
    assert [(Decimal(p["open_invoices"]), Decimal(p["open_orders"]), Decimal(p["exposure"])) for p in mine] == [
        (Decimal("1000.00"), Decimal("500.00"), Decimal("1500.00"))
    ]
    assert money((await exposure(limits, known))["exposure"]) == Decimal("1500.00")
