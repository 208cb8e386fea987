"""The credit check on the real service: each check type, idempotency, referrals, reservations."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx

import creditguard_limits
from services.limits.tests.helpers import assess, check, codes, exposure, money, new_buyer, post_invoice, set_limit, start_limits_with_policy


async def test_approval_reserves_and_limit_excess_is_referred_then_rejected(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "4000.00")

    approved = await check(limits, buyer, f"{buyer}-O1", "5000.00", expect=201)
    assert approved["decision"] == "approved", approved
    assert money(approved["exposure_before"]) == Decimal("4000.00")
    assert money(approved["exposure_after"]) == Decimal("9000.00")
    assert money(approved["available_credit"]) == Decimal("1000.00")
    assert money(approved["limit"]) == Decimal("10000.00")

    body = await exposure(limits, buyer)
    assert (money(body["open_invoices"]), money(body["open_orders"]), money(body["available"])) == (Decimal("4000.00"), Decimal("5000.00"), Decimal("1000.00"))

    referred = await check(limits, buyer, f"{buyer}-O2", "1500.00")
    assert referred["decision"] == "referred" and codes(referred) == {"limit_exceeded"}
    # 20% of the limit over it or more: rejected outright.
    rejected = await check(limits, buyer, f"{buyer}-O3", "3500.00")
    assert rejected["decision"] == "rejected" and "limit_exceeded" in codes(rejected)
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("5000.00")


async def test_same_order_is_idempotent_and_a_changed_amount_rechecks_the_difference(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    first = await check(limits, buyer, f"{buyer}-O1", "6000.00", expect=201)
    again = await check(limits, buyer, f"{buyer}-O1", "6000.00", expect=200)
    assert again == first
    # Growing the order by 3000 fits (6000 reserved + 3000 more <= 10000): only the difference counts.
    grown = await check(limits, buyer, f"{buyer}-O1", "9000.00", expect=201)
    assert grown["decision"] == "approved" and grown["id"] != first["id"]
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("9000.00")
    shrunk = await check(limits, buyer, f"{buyer}-O1", "2000.00", expect=201)
    assert shrunk["decision"] == "approved"
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("2000.00")
    # The same order id for another buyer is a conflict, not a silent re-use.
    other = await limits.client.post(
        "/v1/credit-checks",
        headers=limits.auth("erp"),
        json={"buyer_id": new_buyer(), "order_id": f"{buyer}-O1", "amount": "10.00", "currency": "EUR", "payment_terms_days": 30},
    )
    assert other.status_code == 409


async def test_account_status_overdue_review_and_terms_checks(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00", terms=30, review_on="2026-11-15")
    await post_invoice(limits, buyer, f"{buyer}-I1", "20000.00", issued_on="2026-08-01", due_on="2026-09-30")
    decision = await check(limits, buyer, f"{buyer}-O1", "1000.00", terms=45)
    assert decision["decision"] == "referred"
    assert {"overdue_days", "review_overdue", "terms_above_maximum"} <= codes(decision)

    # 20 days past due is no news from a buyer that usually pays 20 days late; from one with no
    # such habit (nothing settled yet: 0 days late usually) it is 10 days beyond the policy's 10.
    slipping = new_buyer()
    await set_limit(limits, slipping, "100000.00", terms=30)
    await post_invoice(limits, slipping, f"{slipping}-I1", "5000.00", issued_on="2026-10-02", due_on="2026-11-11")
    late = await check(limits, slipping, f"{slipping}-O1", "1000.00", terms=30)
    assert late["decision"] == "referred" and codes(late) == {"overdue_beyond_usual"}, late

    clean = new_buyer()
    await set_limit(limits, clean, "100000.00", terms=30)
    conditioned = await check(limits, clean, f"{clean}-O1", "1000.00", terms=60)
    assert conditioned["decision"] == "approved_with_conditions"
    assert conditioned["conditions"] == [
        {"code": "shorter_terms", "message": "Payment terms of at most 30 days.", "amount": None, "percentage": None, "max_terms_days": 30}
    ]

    response = await limits.client.put(
        f"/v1/buyers/{clean}/status", headers=limits.auth("credit_manager"), json={"status": "blocked", "reason": "fraud suspicion"}
    )
    assert response.status_code == 200 and response.json()["status"] == "blocked"
    blocked = await check(limits, clean, f"{clean}-O2", "10.00")
    assert blocked["decision"] == "rejected" and codes(blocked) == {"account_blocked"}
    await limits.client.put(f"/v1/buyers/{clean}/status", headers=limits.auth("credit_manager"), json={"status": "on_hold", "reason": "collections"})
    held = await check(limits, clean, f"{clean}-O3", "10.00")
    assert held["decision"] == "referred" and codes(held) == {"account_on_hold"}


async def _limits_with_late_mode(start_service, databases, broker, tmp_path, mode: str):
    packaged = json.loads((Path(creditguard_limits.__file__).parent / "credit_policy.json").read_text())
    packaged["checks"]["overdue"]["beyond_usual_on_contribution"] = mode
    policy_file = tmp_path / f"late_{mode}_policy.json"
    policy_file.write_text(json.dumps(packaged))
    return await start_limits_with_policy(start_service, databases, broker, policy_file)


LATE_INSURANCE_POLICY = {
    "insurer": "Atradius",
    "indemnity_percentage": "90",
    "max_credit_period_days": 90,
    "report_overdue_within_days": 60,
    "file_claim_within_days": 150,
    "uninsured_action": "none",
}
LATE_COVER = {"policy_id": "P-LATE", "currency": "EUR", "requested_amount": "10000.00", "granted_amount": "10000.00"}


async def _late_buyer(service, *, insured: bool, issued_on: str = "2026-10-02", due_on: str = "2026-11-11", pd: str | None = None) -> str:
    """A buyer with a 5,000 invoice (by default 20 days past due, no habit of lateness)."""
    buyer = new_buyer()
    if pd is not None:
        await assess(service, buyer, grade=10 if Decimal(pd) > Decimal("0.3") else 3, pd=pd)
    await set_limit(service, buyer, "100000.00", terms=30)
    if insured:
        response = await service.client.put("/v1/insurance/policies/P-LATE", headers=service.auth("credit_manager"), json=LATE_INSURANCE_POLICY)
        assert response.status_code == 200
        response = await service.client.put(f"/v1/buyers/{buyer}/insurance-cover", headers=service.auth("credit_manager"), json=LATE_COVER)
        assert response.status_code == 200
    await post_invoice(service, buyer, f"{buyer}-I1", "5000.00", issued_on=issued_on, due_on=due_on)
    return buyer


async def test_a_late_buyer_is_referred_by_default_even_within_its_insurance_cover(limits):
    buyer = await _late_buyer(limits, insured=True)
    default = await check(limits, buyer, f"{buyer}-O1", "1000.00", terms=30)
    assert default["decision"] == "referred" and codes(default) == {"overdue_beyond_usual"}, default


async def test_within_cover_mode_approves_a_late_buyers_earning_order_its_insurance_carries(start_service, databases, broker, tmp_path):
    # An order that keeps the exposure within the cover risks only the insurer's 10 % retention, and
    # earns: approved with the figures. Beyond the cover, at terms beyond its credit period,
    # uninsured, or 60 days past due, the referral stands.
    service = await _limits_with_late_mode(start_service, databases, broker, tmp_path, "within_cover")
    insured = await _late_buyer(service, insured=True)
    within = await check(service, insured, f"{insured}-O1", "1000.00", terms=30)
    assert within["decision"] == "approved" and codes(within) == {"overdue_beyond_usual", "overdue_within_cover"}, within
    assert money(within["economics"]["expected_contribution"]) > 0 and money(within["economics"]["uninsured"]) == 0
    # 6,000 open; 5,000 more would take the exposure to 11,000, above the 10,000 cover.
    above = await check(service, insured, f"{insured}-O2", "5000.00", terms=30)
    assert above["decision"] == "referred" and codes(above) == {"overdue_beyond_usual"}, above
    long_terms = await check(service, insured, f"{insured}-O3", "1000.00", terms=120)
    assert long_terms["decision"] == "referred" and "overdue_within_cover" not in codes(long_terms), long_terms
    uninsured = await _late_buyer(service, insured=False)
    bare = await check(service, uninsured, f"{uninsured}-O1", "1000.00", terms=30)
    assert bare["decision"] == "referred" and codes(bare) == {"overdue_beyond_usual"}, bare
    stopped = await _late_buyer(service, insured=True, issued_on="2026-08-01", due_on="2026-09-30")
    hard = await check(service, stopped, f"{stopped}-O1", "1000.00", terms=30)
    assert hard["decision"] == "referred" and codes(hard) == {"overdue_days"}, hard


async def test_always_mode_approves_a_late_buyers_order_that_earns_at_its_pd(start_service, databases, broker, tmp_path):
    service = await _limits_with_late_mode(start_service, databases, broker, tmp_path, "always")
    earning = await _late_buyer(service, insured=False, pd="0.02")
    approved = await check(service, earning, f"{earning}-O1", "1000.00", terms=30)
    assert approved["decision"] == "approved" and codes(approved) == {"overdue_beyond_usual", "overdue_on_contribution"}, approved
    assert money(approved["economics"]["expected_contribution"]) > 0 and money(approved["economics"]["uninsured"]) == Decimal("1000.00")
    # At a PD of 95 % the uninsured order loses: the lateness referral stands, with the figures.
    losing = await _late_buyer(service, insured=False, pd="0.95")
    referred = await check(service, losing, f"{losing}-O1", "1000.00", terms=30)
    assert referred["decision"] == "referred" and "overdue_beyond_usual" in codes(referred), referred
    assert "overdue_on_contribution" not in codes(referred) and money(referred["economics"]["expected_contribution"]) < 0
    stopped = await _late_buyer(service, insured=False, pd="0.02", issued_on="2026-08-01", due_on="2026-09-30")
    hard = await check(service, stopped, f"{stopped}-O1", "1000.00", terms=30)
    assert hard["decision"] == "referred" and "overdue_days" in codes(hard) and "overdue_on_contribution" not in codes(hard), hard


async def test_unknown_buyer_is_approved_up_to_a_first_order_then_referred(limits):
    buyer = new_buyer()
    small = await check(limits, buyer, f"{buyer}-O1", "3000.00")
    assert small["decision"] == "approved" and small["limit"] is None
    too_much = await check(limits, buyer, f"{buyer}-O2", "2500.00")
    assert too_much["decision"] == "referred" and codes(too_much) == {"unknown_buyer"}


async def test_referred_order_is_listed_and_decided_by_a_credit_manager(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "1000.00")
    referred = await check(limits, buyer, f"{buyer}-O1", "1100.00")
    assert referred["decision"] == "referred" and referred["state"] == "pending"
    pending = (await limits.client.get("/v1/credit-checks", headers=limits.auth("credit_manager"))).json()
    assert referred["id"] in [p["id"] for p in pending]
    assert (
        await limits.client.post(f"/v1/credit-checks/{referred['id']}/decision", headers=limits.auth("erp"), json={"decision": "approved", "comment": "x"})
    ).status_code == 403
    decided = await limits.client.post(
        f"/v1/credit-checks/{referred['id']}/decision",
        headers=limits.auth("credit_manager"),
        json={"decision": "approved", "comment": "long-standing customer, paid early"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "approved" and decided.json()["decided_by"]
    # The ERP polls the check and sees the outcome; the credit is reserved.
    polled = (await limits.client.get(f"/v1/credit-checks/{referred['id']}", headers=limits.auth("erp"))).json()
    assert polled["decision"] == "approved" and polled["decision_comment"] == "long-standing customer, paid early"
    assert polled["breakdown"]["position"]["limit"] == "1000.00" and polled["rules_version"].startswith("2026.12-1+")
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("1100.00")
    again = await limits.client.post(
        f"/v1/credit-checks/{referred['id']}/decision", headers=limits.auth("credit_manager"), json={"decision": "rejected", "comment": "changed my mind"}
    )
    assert again.status_code == 409

    # The queue and a buyer's past decisions: search by state, buyers, reason and decision, sorted and paged.
    other = new_buyer()
    await set_limit(limits, other, "1000.00")
    waiting = [await check(limits, other, f"{other}-O{i}", amount) for i, amount in enumerate(("1050.00", "1150.00"))]

    async def search(**body: object) -> httpx.Response:
        return await limits.client.post("/v1/credit-checks/search", headers=limits.auth("sales"), json=body)

    queue = (await search(buyer_ids=[buyer, other])).json()
    # Pending only (the decided one is not in the queue); this clock stands still, so no age order to see.
    assert queue["total"] == 2 and {c["id"] for c in queue["items"]} == {w["id"] for w in waiting}
    largest = (await search(buyer_ids=[other], sort="-amount", limit=1, offset=0)).json()
    assert largest["total"] == 2 and [c["amount"] for c in largest["items"]] == ["1150.00"]
    assert (await search(buyer_ids=[other], reason="limit_exceeded")).json()["total"] == 2
    assert (await search(buyer_ids=[other], reason="overdue_days")).json()["total"] == 0
    decisions = (await search(state="decided", buyer_ids=[buyer], decision="approved")).json()
    assert [c["id"] for c in decisions["items"]] == [referred["id"]]
    assert (await search(buyer_ids=[buyer, other], reason="Not A Code")).status_code == 422
    assert (await limits.client.post("/v1/credit-checks/search", headers=limits.auth("erp"), json={})).status_code == 403


async def test_reservation_is_released_when_invoiced_or_cancelled_and_expires(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    await check(limits, buyer, f"{buyer}-O1", "4000.00")
    await check(limits, buyer, f"{buyer}-O2", "3000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "4100.00", order_id=f"{buyer}-O1")
    body = await exposure(limits, buyer)
    assert (money(body["open_invoices"]), money(body["open_orders"])) == (Decimal("4100.00"), Decimal("3000.00"))
    cancelled = await limits.client.post(f"/v1/orders/{buyer}-O2/cancel", headers=limits.auth("erp"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("0.00")

    await check(limits, buyer, f"{buyer}-O3", "1000.00")
    limits.clock.advance(__import__("datetime").timedelta(days=31))
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("0.00")


async def test_bad_input_and_metrics(limits):
    response = await limits.client.post(
        "/v1/credit-checks", headers=limits.auth("erp"), json={"buyer_id": "B", "order_id": "O", "amount": "-5", "currency": "EUR", "payment_terms_days": 30}
    )
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    response = await limits.client.post(
        "/v1/credit-checks", headers=limits.auth("erp"), json={"buyer_id": "B", "order_id": "O", "amount": "5", "currency": "XXX", "payment_terms_days": 30}
    )
    assert response.status_code == 422 and "XXX" in response.json()["detail"]
    buyer = new_buyer()
    await set_limit(limits, buyer, "100.00")
    await check(limits, buyer, f"{buyer}-O1", "101.00")
    metrics = (await limits.client.get("/metrics")).text
    assert 'creditguard_credit_checks_total{decision="referred"} 1.0' in metrics
    assert 'creditguard_credit_check_reasons_total{code="limit_exceeded"} 1.0' in metrics
    assert "creditguard_credit_check_duration_seconds_count 1.0" in metrics
    assert "creditguard_referred_checks_pending 1.0" in metrics
    assert buyer not in metrics


async def test_a_checks_rows_are_written_with_its_commit_and_not_by_a_rollback(limits):
    """The hot path queues the decision and the reservation on the unit of work, which writes
    them with the events at commit (one statement on PostgreSQL): a rolled-back check leaves no
    row and no event; a committed one is found, and a changed order in a later transaction
    supersedes its reservation."""
    from creditguard_limits.checks import service as checks_service
    from creditguard_limits.checks.schemas import CreditCheckIn

    buyer = new_buyer()
    await set_limit(limits, buyer, "50000.00")
    order = f"{buyer}-O1"

    def request(amount: str) -> CreditCheckIn:
        return CreditCheckIn(buyer_id=buyer, order_id=order, amount=Decimal(amount), currency="EUR", payment_terms_days=30)

    async with limits.runtime.uow_factory() as uow:
        decided, created = await checks_service.run_credit_check(uow, context=limits.app.state.limits, request=request("1000.00"), requested_by="test")
        assert created and decided.decision == "approved"
        await uow.rollback()
    assert (await limits.client.get(f"/v1/credit-checks/{decided.check_id}", headers=limits.auth("credit_manager"))).status_code == 404
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("0.00")

    async with limits.runtime.uow_factory() as uow:
        decided, created = await checks_service.run_credit_check(uow, context=limits.app.state.limits, request=request("1000.00"), requested_by="test")
        assert [event.type for event in uow.emitted] == ["creditguard.exposure.changed.v1", "creditguard.credit-check.decided.v1"]
        await uow.commit()
    stored = (await limits.client.get(f"/v1/credit-checks/{decided.check_id}", headers=limits.auth("credit_manager"))).json()
    assert (stored["decision"], stored["amount"]) == ("approved", "1000.00")
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("1000.00")

    async with limits.runtime.uow_factory() as uow:
        again, created = await checks_service.run_credit_check(uow, context=limits.app.state.limits, request=request("900.00"), requested_by="test")
        await uow.commit()
    assert created and again.check_id != decided.check_id
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("900.00")
