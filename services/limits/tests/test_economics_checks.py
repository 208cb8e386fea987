"""Decision economics on the real service: the expected-contribution figures of a known order, an
earning order of a buyer in ramp-up approved up to its economic capacity (also under concurrent
orders), a losing order given conditions or referred with its figures, and a policy file of one's
own (LIMITS_POLICY_FILE). The service runs the tests' own policy file, so the figures worked out
by hand hold however the packaged policy is tuned."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from services.limits.tests.helpers import assess, check, codes, exposure, money, new_buyer, start_limits_with_policy
from services.limits.tests.test_economics_rules import TEST_POLICY_FILE


@pytest.fixture
async def limits(start_service, databases, broker):
    return await start_limits_with_policy(start_service, databases, broker, TEST_POLICY_FILE)


async def test_a_known_order_shows_its_expected_contribution_and_a_ramp_up_does_not_stop_an_earning_order(limits):
    buyer = new_buyer()
    limit = await assess(limits, buyer, grade=3, pd="0.02", sales="90000000")
    # Grade 3: 12 % of equity 2,000,000 = 240,000; PD 2 % at 90 days earns (M 0.608 > E 0.017 + C 0.06)
    # and the appetite cap is far above it; a new relationship starts at 25 %: 60,000.
    recommendation = limit["recommendation"]
    assert money(recommendation["economic_limit"]) == Decimal("240000.00") and money(limit["amount"]) == Decimal("60000.00")
    assert money(recommendation["economics"]["expected_loss_rate"]) == Decimal("0.01700000")
    policy = {
        "insurer": "Atradius",
        "indemnity_percentage": "90",
        "max_credit_period_days": 120,
        "report_overdue_within_days": 60,
        "file_claim_within_days": 150,
        "uninsured_action": "none",
    }
    assert (await limits.client.put("/v1/insurance/policies/P-E", headers=limits.auth("credit_manager"), json=policy)).status_code == 200
    cover = {"policy_id": "P-E", "currency": "EUR", "requested_amount": "4000.00", "granted_amount": "4000.00"}
    assert (await limits.client.put(f"/v1/buyers/{buyer}/insurance-cover", headers=limits.auth("credit_manager"), json=cover)).status_code == 200

    known = await check(limits, buyer, f"{buyer}-O1", "10000.00", terms=60, expect=201)
    # By hand: D = 60 days, p = 1 - 0.98^(60/365) = 0.33155 %, 4,000 insured at 90 %, 6,000 not:
    # EL = p x 0.85 x (6,000 + 400) = 18.04; financing 10,000 x 6 % x 60/365 = 98.63; premium 4,000 x 0.2 % = 8.00;
    # EC = 1,500.00 - 18.04 - 98.63 - 8.00 = 1,375.33.
    figures = known["economics"]
    assert known["decision"] == "approved" and known["limit_basis"] == "limit" and money(known["limit"]) == Decimal("60000.00")
    assert abs(Decimal(figures["pd_over_period"]) - Decimal(1 - 0.98 ** (60 / 365))) < Decimal("0.00000001")
    assert {
        k: money(figures[k])
        for k in ("gross_margin", "insured", "uninsured", "expected_loss", "financing_cost", "insurance_premium", "expected_contribution", "economic_capacity")
    } == {
        "gross_margin": Decimal("1500.00"),
        "insured": Decimal("4000.00"),
        "uninsured": Decimal("6000.00"),
        "expected_loss": Decimal("18.04"),
        "financing_cost": Decimal("98.63"),
        "insurance_premium": Decimal("8.00"),
        "expected_contribution": Decimal("1375.33"),
        "economic_capacity": Decimal("244000.00"),
    }
    assert (figures["currency"], money(figures["margin_rate"]), money(figures["indemnity_share"])) == ("EUR", Decimal("0.15"), Decimal("0.9"))

    # 80,000 more takes the exposure to 90,000: over the ramp-up limit by half, within the economic
    # capacity (240,000 of its own and the insurer's 4,000 cover).
    earning = await check(limits, buyer, f"{buyer}-O2", "80000.00", terms=60)
    assert earning["decision"] == "approved", earning["reasons"]
    assert codes(earning) == {"limit_exceeded", "approved_on_contribution"}
    assert earning["limit_basis"] == "economic_capacity" and money(earning["limit"]) == Decimal("244000.00")
    assert money(earning["exposure_after"]) == Decimal("90000.00") <= money(earning["limit"])
    assert money(earning["available_credit"]) == Decimal("154000.00") and money(earning["economics"]["expected_contribution"]) > 0
    # Far above the economic capacity (more than a 50 % prepayment would bring within it) the limit
    # holds, and the figures come with the decision.
    beyond = await check(limits, buyer, f"{buyer}-O3", "400000.00", terms=60)
    assert beyond["decision"] == "rejected" and beyond["limit_basis"] == "limit" and money(beyond["limit"]) == Decimal("60000.00")
    assert money(beyond["economics"]["expected_contribution"]) > 0 and beyond["conditions"] == []
    stored = (await limits.client.get(f"/v1/credit-checks/{earning['id']}", headers=limits.auth("sales"))).json()
    assert stored["economics"] == earning["economics"] and stored["limit_basis"] == "economic_capacity"
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("90000.00")
    # 160,000 more would take it to 250,000, above the 244,000: 10 % prepaid leaves 144,000 on
    # credit, which fits. Only the credit part is reserved and counted as exposure.
    prepaid = await check(limits, buyer, f"{buyer}-O4", "160000.00", terms=60)
    assert prepaid["decision"] == "approved_with_conditions", prepaid["reasons"]
    assert codes(prepaid) == {"limit_exceeded", "prepayment_above_capacity"}
    assert [(c["code"], c["percentage"], money(c["amount"])) for c in prepaid["conditions"]] == [("prepayment", "10", Decimal("16000.00"))]
    assert prepaid["limit_basis"] == "economic_capacity" and money(prepaid["limit"]) == Decimal("244000.00")
    assert money(prepaid["exposure_after"]) == Decimal("234000.00") and money(prepaid["available_credit"]) == Decimal("10000.00")
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("234000.00")


async def test_an_insured_buyer_may_use_its_insurers_cover_beyond_its_own_economic_capacity(limits):
    # A weak buyer (PD 60 %, grade 3's 90-day terms): 12 % of equity 1,000,000 = 120,000 of financial
    # capacity, cut by the risk appetite to 0.25 x M 0.6083 x 120,000 / E 0.51 = 35,784.31 of its
    # own. The insurer covers 100,000 at 90 %: inside the cover a default costs 0.6 x 0.85 x 0.1 =
    # 0.051 a year, so the whole cover adds to what an earning order may use.
    buyer = new_buyer()
    limit = await assess(limits, buyer, grade=3, pd="0.6", equity="1000000", sales="90000000")
    own = money(limit["recommendation"]["economic_limit"])
    assert own == Decimal("35784.31"), limit["recommendation"]
    policy = {
        "insurer": "Atradius",
        "indemnity_percentage": "90",
        "max_credit_period_days": 120,
        "report_overdue_within_days": 60,
        "file_claim_within_days": 150,
        "uninsured_action": "none",
    }
    assert (await limits.client.put("/v1/insurance/policies/P-I", headers=limits.auth("credit_manager"), json=policy)).status_code == 200
    cover = {"policy_id": "P-I", "currency": "EUR", "requested_amount": "100000.00", "granted_amount": "100000.00"}
    assert (await limits.client.put(f"/v1/buyers/{buyer}/insurance-cover", headers=limits.auth("credit_manager"), json=cover)).status_code == 200

    insured = await check(limits, buyer, f"{buyer}-O1", "120000.00", terms=45)
    assert insured["decision"] == "approved" and "approved_on_contribution" in codes(insured), insured["reasons"]
    assert insured["limit_basis"] == "economic_capacity" and money(insured["limit"]) == own + Decimal("100000.00")
    assert money(insured["economics"]["insured"]) == Decimal("100000.00")
    # Beyond its own capacity and the cover (15,784.31 left, less than half of the order), the limit holds.
    beyond = await check(limits, buyer, f"{buyer}-O2", "40000.00", terms=45)
    assert beyond["decision"] in ("referred", "rejected") and beyond["limit_basis"] == "limit", beyond["reasons"]
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("120000.00")


async def test_a_losing_order_gets_conditions_or_is_referred_and_concurrent_orders_stay_within_the_economic_capacity(limits):
    # PD 95 %: at 30 days an order loses; shorter terms rescue it.
    risky = new_buyer()
    await assess(limits, risky, grade=5, pd="0.95", sales="90000000")
    shortened = await check(limits, risky, f"{risky}-O1", "3000.00", terms=30)
    assert shortened["decision"] == "approved_with_conditions" and "negative_contribution" in codes(shortened)
    assert money(shortened["economics"]["expected_contribution"]) < 0
    condition = next(c for c in shortened["conditions"] if c["code"] == "shorter_terms")
    assert 14 <= condition["max_terms_days"] < 30 and money(condition["expected_contribution"]) > 0
    # Certain default, no cover: nothing but insurance makes it earn; referred with that suggestion.
    doomed = new_buyer()
    await assess(limits, doomed, grade=5, pd="1", sales="90000000")
    referred = await check(limits, doomed, f"{doomed}-O1", "3000.00", terms=30)
    assert referred["decision"] == "referred" and "contribution_needs_cover" in codes(referred)
    assert money(referred["economics"]["expected_loss"]) == Decimal("2550.00")  # p = 1: 3,000 x 0.85
    pending = (await limits.client.get("/v1/credit-checks", headers=limits.auth("credit_manager"))).json()
    listed = next(p for p in pending if p["id"] == referred["id"])
    assert listed["economics"] == referred["economics"]

    # Simultaneous earning orders: 12 % of equity 1,000,000 = 120,000 of economic capacity, a
    # ramp-up limit of 30,000: exactly twelve orders of 10,000 pass, whatever the interleaving.
    buyer = new_buyer()
    await assess(limits, buyer, grade=3, pd="0.02", equity="1000000", sales="90000000")
    decisions = await asyncio.gather(*(check(limits, buyer, f"{buyer}-O{i}", "10000.00", terms=60) for i in range(16)))
    approved = [d for d in decisions if d["decision"] == "approved"]
    assert len(approved) == 12, [d["decision"] for d in decisions]
    assert all(money(d["exposure_after"]) <= money(d["limit"]) for d in approved)
    assert money((await exposure(limits, buyer))["open_orders"]) == Decimal("120000.00")


async def test_the_policy_file_setting_carries_the_economics(start_service, databases, broker, tmp_path):
    policy = json.loads(TEST_POLICY_FILE.read_text())
    policy["economics"]["gross_margin"] = {"default": "0.01", "by_industry": {"C": "0.02"}, "by_product_line": {"services": "0.30"}}
    path = tmp_path / "thin_margin_policy.json"
    path.write_text(json.dumps(policy))
    service = await start_limits_with_policy(start_service, databases, broker, path)
    buyer = new_buyer()
    limit = await assess(service, buyer, grade=3, pd="0.20", industry="C25", sales="90000000")
    # 2 % margin at 90 days: M = 0.0811 < E 0.17 + C 0.06: the exposure earns nothing, no policy limit.
    assert money(limit["recommendation"]["economic_limit"]) == Decimal("0.00") and money(limit["amount"]) == Decimal("0.00")
    thin = await check(service, buyer, f"{buyer}-O1", "1000.00", terms=90)
    # Nothing to outweigh the zero limit with: the economic capacity is zero too; a credit manager decides.
    assert thin["decision"] == "referred" and codes(thin) == {"limit_exceeded", "no_economic_capacity"} and thin["limit_basis"] == "limit"
    assert money(thin["economics"]["margin_rate"]) == Decimal("0.02") and money(thin["economics"]["economic_capacity"]) == Decimal("0.00")
    response = await service.client.post(
        "/v1/credit-checks",
        headers=service.auth("erp"),
        json={"buyer_id": buyer, "order_id": f"{buyer}-O2", "amount": "1000.00", "currency": "EUR", "payment_terms_days": 90, "product_line": "services"},
    )
    assert response.status_code == 201 and money(response.json()["economics"]["gross_margin"]) == Decimal("300.00")
