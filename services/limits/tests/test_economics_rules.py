"""Decision economics as pure rules: the expected-contribution formula on an order worked out by
hand, the conditions that rescue a loss-making order, the recommendation within the risk appetite,
and decisions that weigh money against the limit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from creditguard_limits.accounts.rules import recommend
from creditguard_limits.checks.rules import AccountFacts, CheckRequest, Rates, evaluate
from creditguard_limits.economics.rules import expected_days_late, find_rescue, insured_capacity, limit_economics, order_economics
from creditguard_limits.fx.rules import RateTable
from creditguard_limits.policy.economics import Economics, GrossMargin
from creditguard_limits.policy.rules import CreditPolicy
from creditguard_limits.policy.service import DEFAULT_POLICY_FILE, PolicyStore
from creditguard_limits.position.rules import Cover, Exposure, GroupPosition, Position

# The figures below are worked out for this policy (grade matrix and economics), independent of
# how the packaged policy is tuned.
TEST_POLICY_FILE = Path(__file__).with_name("economics_policy.json")
POLICY = PolicyStore(str(TEST_POLICY_FILE)).current
ECONOMICS = POLICY.economics
TODAY = date(2026, 12, 1)
SAME = Rates(to_position=lambda value: value)


def cents(value: float) -> Decimal:
    return Decimal(str(round(value + 1e-9, 2)))


def test_expected_contribution_of_a_known_order_matches_the_hand_calculation():
    # 10,000 EUR at 60 days to a buyer 5 days late on average, PD12 2 %, 4,000 of it insured at 90 %.
    order = order_economics(
        ECONOMICS,
        currency="EUR",
        amount=Decimal("10000"),
        margin_rate=Decimal("0.15"),
        pd_12m=Decimal("0.02"),
        terms_days=60,
        expected_days_late=Decimal("5"),
        insured=Decimal("4000"),
        indemnity_share=Decimal("0.90"),
    )
    p = 1 - (1 - 0.02) ** (65 / 365)  # 0.35913 %
    expected_loss = cents(p * 0.85 * (6000 + 4000 * 0.10))  # 19.54
    financing = cents(10000 * 0.06 * 65 / 365)  # 106.85
    assert (order.exposure_days, order.uninsured) == (Decimal("65"), Decimal("6000.00"))
    assert abs(float(order.pd_over_period) - p) < 1e-8
    assert (order.gross_margin, order.expected_loss, order.financing_cost, order.insurance_premium) == (
        Decimal("1500.00"),
        expected_loss,
        financing,
        Decimal("8.00"),
    )
    assert order.expected_contribution == Decimal("1500.00") - expected_loss - financing - Decimal("8.00") == Decimal("1365.61")
    # L is the buyer's average days late over its settled invoices.
    assert expected_days_late(days_late_total=16, invoices_settled=3) == Decimal("5.3")
    assert expected_days_late(days_late_total=0, invoices_settled=0) == Decimal(0)


def test_margin_by_product_line_then_longest_industry_prefix_then_default():
    margin = GrossMargin(
        default=Decimal("0.15"), by_industry={"C": Decimal("0.20"), "C25": Decimal("0.30"), "47": Decimal("0.05")}, by_product_line={"spares": Decimal("0.40")}
    )
    assert margin.rate(industry="C25.1", product_line=None) == Decimal("0.30")
    assert margin.rate(industry="C10", product_line=None) == Decimal("0.20")
    assert margin.rate(industry="47.11", product_line="unknown-line") == Decimal("0.05")
    assert margin.rate(industry="C25", product_line="spares") == Decimal("0.40")
    assert margin.rate(industry=None, product_line=None) == Decimal("0.15")
    with pytest.raises(ValidationError):
        GrossMargin(by_industry={"C": Decimal("1.5")})


def test_one_loss_given_default_for_forecast_and_checks():
    assert "loss_given_default" not in json.loads(DEFAULT_POLICY_FILE.read_text())
    data = json.loads(TEST_POLICY_FILE.read_text())
    assert "loss_given_default" not in data and POLICY.economics.loss_given_default == Decimal("0.85")
    legacy = {k: v for k, v in data.items() if k != "economics"} | {"loss_given_default": "0.60"}
    assert CreditPolicy.model_validate(legacy).economics.loss_given_default == Decimal("0.60")
    with pytest.raises(ValidationError, match="set twice"):
        CreditPolicy.model_validate(data | {"loss_given_default": "0.45"})


def _losing_order(*, pd: str, margin: str = "0.15", terms: int = 30, insured: str = "0") -> object:
    return order_economics(
        ECONOMICS,
        currency="EUR",
        amount=Decimal("3000"),
        margin_rate=Decimal(margin),
        pd_12m=Decimal(pd),
        terms_days=terms,
        expected_days_late=Decimal(0),
        insured=Decimal(insured),
        indemnity_share=Decimal("0.90"),
    )


def test_conditions_are_tried_in_order_terms_prepayment_cover():
    def nothing_insured(credit: Decimal) -> Decimal:
        return Decimal(0)

    # PD 95 %: at 30 days the order loses; the longest terms that earn are found (14 still earns).
    order = _losing_order(pd="0.95")
    assert order.expected_contribution < 0
    rescue = find_rescue(ECONOMICS, order=order, insured_for=nothing_insured, has_cover=False)
    assert rescue is not None and rescue.code == "shorter_terms" and 14 <= rescue.max_terms_days < 30
    assert rescue.economics.expected_contribution > 0
    longer = _losing_order(pd="0.95", terms=rescue.max_terms_days + 1)
    assert longer.expected_contribution <= 0
    # Certain default: no terms help; a prepayment does when the margin is high enough. At 50 %
    # margin the order earns 1,500; the credit part c costs c x (0.85 + 0.06 x 30 / 365) = 0.8549 c:
    # 40 % prepaid leaves 1,800 (1,538.88 > 1,500), 50 % leaves 1,500 (1,282.40 < 1,500).
    rich = _losing_order(pd="1", margin="0.50")
    rescue = find_rescue(ECONOMICS, order=rich, insured_for=nothing_insured, has_cover=False)
    assert rescue is not None and rescue.code == "prepayment" and rescue.share == Decimal("0.50")
    assert rescue.economics.credit_amount == Decimal("1500.00") and rescue.economics.expected_contribution == Decimal("217.60")
    # 15 % margin, certain default: only cover rescues it, and only for a buyer without cover.
    poor = _losing_order(pd="1")
    rescue = find_rescue(ECONOMICS, order=poor, insured_for=nothing_insured, has_cover=False)
    assert rescue is not None and rescue.code == "credit_insurance" and rescue.economics.insured == Decimal("3000.00")
    assert find_rescue(ECONOMICS, order=poor, insured_for=nothing_insured, has_cover=True) is None


def test_recommendation_maximises_contribution_within_the_risk_appetite():
    capacity = Decimal("100000")

    def limit(pd: str, *, share: str = "0.25", margin: str = "0.15") -> Decimal:
        economics = Economics(risk_appetite={"max_expected_loss_share": share})
        return limit_economics(
            economics, capacity=capacity, margin_rate=Decimal(margin), pd_12m=Decimal(pd), terms_days=45, expected_days_late=Decimal(0)
        ).economic_limit

    # M = 0.15 x 365 / 45 = 1.2167; E = PD x 0.85. A safe buyer gets its whole capacity.
    assert limit("0.01") == capacity
    # PD 50 %: E = 0.425; cap = 0.25 x 1.2167 x 100,000 / 0.425 = 71,568.63.
    assert limit("0.5") == Decimal("71568.63")
    # A more conservative appetite lowers risky limits, not safe ones.
    assert limit("0.5", share="0.05") == Decimal("14313.73") < limit("0.5")
    assert limit("0.01", share="0.05") == capacity
    # At a 1 % margin the exposure does not earn: M = 0.0811 < E + C = 0.085 + 0.06.
    assert limit("0.10", margin="0.01") == Decimal("0.00")


def test_an_insurers_cover_adds_to_the_economic_capacity_while_exposure_inside_it_earns():
    def capacity(pd: str, *, margin: str = "0.15", indemnity: str = "0.90") -> tuple[Decimal, Decimal]:
        own = limit_economics(
            ECONOMICS, capacity=Decimal("100000"), margin_rate=Decimal(margin), pd_12m=Decimal(pd), terms_days=45, expected_days_late=Decimal(0)
        )
        return own.economic_limit, insured_capacity(ECONOMICS, cover=Decimal("250000"), indemnity_share=Decimal(indemnity), limit=own)

    # PD 90 % over 45 days: M = 1.2167 > E + C = 0.765 + 0.06, so the own exposure earns but the
    # risk appetite caps it; inside the cover the loss rate is only 0.9 x 0.85 x 0.10 = 0.0765
    # (premium 0.002 x 365 / 45 = 0.0162 a year), so the whole cover counts.
    own, insured = capacity("0.90")
    assert insured == Decimal("250000.00") and own < Decimal("100000")
    # At a 2 % margin over 45 days (M = 0.1622) a buyer with PD 90 % loses even on its own
    # exposure (E + C = 0.825), and inside the cover too once the insurer pays only half:
    # 0.9 x 0.85 x 0.5 = 0.3825 > 0.1622 - 0.06 - 0.0162.
    assert capacity("0.90", margin="0.02", indemnity="0.50") == (Decimal("0.00"), Decimal("0.00"))
    # With the usual 90 % indemnity the insured exposure still earns where the own does not:
    # 0.1622 - 0.0765 - 0.06 - 0.0162 = 0.0095.
    assert capacity("0.90", margin="0.02") == (Decimal("0.00"), Decimal("250000.00"))
    # A buyer in default (PD 1) gets nothing from its cover.
    assert capacity("1")[1] == Decimal("0.00")


def test_recommend_applies_the_ramp_up_to_the_economic_limit():
    rates = RateTable(reporting_currency="EUR", rates={"EUR": Decimal(1)})
    new = recommend(
        POLICY,
        grade=7,
        equity=Decimal("10000000"),
        sales=Decimal("50000000"),
        statement_currency="EUR",
        invoices_paid_on_time=0,
        rates=rates,
        pd=Decimal("0.9"),
        industry="C25",
        terms_days=30,
    )
    # Grade 7: capacity 75,000; PD 90 %, 30 days: M = 1.825, E = 0.765, cap = 0.25 x 1.825 / 0.765 x 75,000 = 44,730.39.
    assert new.capacity_limit == Decimal("75000.00") and new.economic_limit == Decimal("44730.39")
    assert new.amount == Decimal("11182.60") and new.economics.appetite_limit == Decimal("44730.39")


def _position(*, limit: str | None, exposure: str = "0", cover: Cover | None = None, group: GroupPosition | None = None) -> Position:
    return Position(
        buyer_id="B",
        currency="EUR",
        base_limit=None if limit is None else Decimal(limit),
        temporary_increase=Decimal(0),
        exposure=Exposure(currency="EUR", open_invoices=Decimal(exposure)),
        group=group,
        cover=cover,
    )


def _facts(**overrides) -> AccountFacts:
    facts = AccountFacts(
        status="active",
        grade=3,
        risk_class="low",
        review_on=None,
        payment_terms_days=90,
        unknown=False,
        pd=Decimal("0.02"),
        industry="C25",
        economic_capacity=Decimal("100000"),
        limit_source="policy",
    )
    return replace(facts, **overrides)


def _order(amount: str, terms: int = 60) -> CheckRequest:
    return CheckRequest(amount=Decimal(amount), additional=Decimal(amount), payment_terms_days=terms, today=TODAY)


def test_a_limit_in_the_way_of_an_earning_order_is_outweighed_up_to_the_economic_capacity():
    # A ramp-up limit of 25,000 with 20,000 used: a 10,000 order earns and stays within 100,000.
    outcome = evaluate(POLICY, request=_order("10000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert outcome.decision == "approved" and outcome.limit_basis == "economic_capacity" and outcome.decision_limit == Decimal("100000")
    assert [r["code"] for r in outcome.reasons] == ["limit_exceeded", "approved_on_contribution"]
    assert outcome.economics is not None and outcome.economics.expected_contribution > 0
    # Beyond the economic capacity by more than the largest prepayment (50 %) can cover, the limit
    # holds (more than 20 % over it: rejected).
    beyond = evaluate(POLICY, request=_order("200000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert beyond.decision == "rejected" and beyond.limit_basis == "limit" and beyond.decision_limit == Decimal("25000")
    assert beyond.prepaid == 0 and beyond.conditions == []
    # Hard stops stay hard: a group limit, a blocked account, an unassessed buyer.
    group = GroupPosition(group_id="G", limit=Decimal("21000"), exposure=Decimal("20000"))
    assert (
        evaluate(POLICY, request=_order("10000"), account=_facts(), position=_position(limit="25000", exposure="20000", group=group), rates=SAME).decision
        == "referred"
    )
    assert (
        evaluate(POLICY, request=_order("10000"), account=_facts(status="blocked"), position=_position(limit="25000", exposure="20000"), rates=SAME).decision
        == "rejected"
    )
    # A defaulted buyer's limit (PD 1) is never outweighed, even with a grade row that would approve;
    # a weak grade-10 buyer that still pays is priced like any other.
    lenient = POLICY.model_copy(update={"grades": POLICY.grades | {10: POLICY.grades[3]}})
    defaulted = evaluate(
        lenient, request=_order("10000"), account=_facts(grade=10, pd=Decimal(1)), position=_position(limit="25000", exposure="20000"), rates=SAME
    )
    assert defaulted.decision == "referred" and defaulted.limit_basis == "limit"
    weak = evaluate(
        lenient, request=_order("10000"), account=_facts(grade=10, pd=Decimal("0.40")), position=_position(limit="25000", exposure="20000"), rates=SAME
    )
    assert weak.decision == "approved" and weak.limit_basis == "economic_capacity"
    assert (
        evaluate(
            POLICY,
            request=_order("10000"),
            account=_facts(grade=None, pd=None, economic_capacity=None),
            position=_position(limit="25000", exposure="20000"),
            rates=SAME,
        ).decision
        == "referred"
    )
    # A buyer whose exposure earns nothing (economic capacity 0) is referred with the figures, not
    # rejected by its zero limit.
    zero = evaluate(POLICY, request=_order("1000"), account=_facts(economic_capacity=Decimal(0)), position=_position(limit="0"), rates=SAME)
    assert zero.decision == "referred" and [r["code"] for r in zero.reasons] == ["limit_exceeded", "no_economic_capacity"]
    # A manual limit is outweighed only if the policy says so.
    strict = POLICY.model_copy(update={"economics": Economics(decisions={"include_manual_limits": False})})
    assert (
        evaluate(
            strict, request=_order("10000"), account=_facts(limit_source="manual"), position=_position(limit="25000", exposure="20000"), rates=SAME
        ).decision
        == "referred"
    )


def test_a_losing_order_gets_the_condition_that_makes_it_earn_or_is_referred_with_the_figures():
    risky = _facts(grade=5, pd=Decimal("0.95"), payment_terms_days=60)
    terms = evaluate(POLICY, request=_order("3000", terms=45), account=risky, position=_position(limit="50000"), rates=SAME)
    assert terms.decision == "approved_with_conditions" and "negative_contribution" in [r["code"] for r in terms.reasons]
    condition = next(c for c in terms.conditions if c["code"] == "shorter_terms")
    assert 14 <= condition["max_terms_days"] < 45 and Decimal(condition["expected_contribution"]) > 0
    # A margin no condition rescues, for an insured buyer: referred, with the figures.
    thin = POLICY.model_copy(update={"economics": Economics(gross_margin={"default": "0.01"})})
    cover = Cover(
        policy_id="P", insurer="I", granted=Decimal("100000"), indemnity_percentage=Decimal("50"), max_credit_period_days=120, uninsured_action="none"
    )
    referred = evaluate(thin, request=_order("3000", terms=45), account=risky, position=_position(limit="50000", cover=cover), rates=SAME)
    assert referred.decision == "referred" and referred.conditions == []
    reason = next(r for r in referred.reasons if r["code"] == "negative_contribution")
    assert str(referred.economics.expected_contribution) in reason["message"] and referred.economics.expected_contribution < 0


def test_an_earning_order_may_go_the_tolerance_above_the_economic_capacity_and_no_further():
    tolerant = POLICY.model_copy(
        update={
            "economics": POLICY.economics.model_copy(
                update={"decisions": POLICY.economics.decisions.model_copy(update={"capacity_tolerance": Decimal("0.20")})}
            )
        }
    )
    # Capacity 100,000 with 20,000 used: up to 120,000 is approved, and the answer's limit is that ceiling.
    within = evaluate(tolerant, request=_order("100000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert within.decision == "approved" and within.limit_basis == "economic_capacity" and within.decision_limit == Decimal("120000.00")
    # A cent more and the whole order no longer fits: the part above the ceiling is asked for up
    # front (the smallest step, 10 %), the rest stays on credit within it.
    beyond = evaluate(tolerant, request=_order("100000.01"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert beyond.decision == "approved_with_conditions" and beyond.prepaid == Decimal("10000.00")
    assert beyond.decision_limit == Decimal("120000.00") >= Decimal("20000") + Decimal("100000.01") - beyond.prepaid


def test_an_earning_order_above_the_economic_capacity_keeps_the_part_that_fits_with_a_prepayment_of_the_rest():
    # Capacity 100,000 (no tolerance) with 20,000 used leaves 80,000. A 90,000 order earns: 10 %
    # prepaid leaves 81,000 on credit (too much), 20 % leaves 72,000, the smallest share that fits.
    outcome = evaluate(POLICY, request=_order("90000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert outcome.decision == "approved_with_conditions", outcome.reasons
    assert [r["code"] for r in outcome.reasons] == ["limit_exceeded", "prepayment_above_capacity"]
    assert outcome.limit_basis == "economic_capacity" and outcome.decision_limit == Decimal("100000")
    assert outcome.conditions == [
        {
            "code": "prepayment",
            "message": outcome.conditions[0]["message"],
            "percentage": "20",
            "amount": "18000.00",
            "expected_contribution": outcome.conditions[0]["expected_contribution"],
        }
    ]
    assert outcome.prepaid == Decimal("18000.00") and Decimal(outcome.conditions[0]["expected_contribution"]) > 0
    # The margin is earned on the whole order, the credit costs are on the 72,000 only.
    whole = outcome.economics
    assert whole is not None and whole.amount == Decimal("90000.00") and whole.credit_amount == Decimal("90000.00")
    assert Decimal(outcome.conditions[0]["expected_contribution"]) > whole.expected_contribution
    # At the largest prepayment (50 %: 80,000 on credit fills the 80,000 left) still approved;
    # 170,000 would need 85,000 on credit even at 50 %: the limit holds.
    assert evaluate(POLICY, request=_order("160000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME).prepaid == Decimal(
        "80000.00"
    )
    held = evaluate(POLICY, request=_order("170000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert held.decision == "rejected" and held.prepaid == 0
    # Nothing left within the capacity, a buyer in default, or a policy that keeps to limits: no prepayment offer.
    full = evaluate(POLICY, request=_order("10000"), account=_facts(), position=_position(limit="25000", exposure="100000"), rates=SAME)
    assert full.decision == "rejected" and full.prepaid == 0
    defaulted = evaluate(POLICY, request=_order("90000"), account=_facts(pd=Decimal(1)), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert defaulted.decision in ("referred", "rejected") and defaulted.prepaid == 0
    by_limits = POLICY.model_copy(update={"economics": Economics(decisions={"approve_within_economic_capacity": False})})
    assert (
        evaluate(by_limits, request=_order("90000"), account=_facts(), position=_position(limit="25000", exposure="20000"), rates=SAME).decision == "rejected"
    )
    # An order that loses money even with the largest prepayment (PD 99 %, margin 1 %) is not offered one.
    thin = POLICY.model_copy(update={"economics": Economics(gross_margin={"default": "0.01"})})
    losing = evaluate(thin, request=_order("90000"), account=_facts(pd=Decimal("0.99")), position=_position(limit="25000", exposure="20000"), rates=SAME)
    assert losing.decision != "approved_with_conditions" and losing.prepaid == 0


def test_a_rescued_order_above_its_limit_answers_the_ceiling_it_was_decided_against():
    tolerant = POLICY.model_copy(
        update={
            "economics": POLICY.economics.model_copy(
                update={"decisions": POLICY.economics.decisions.model_copy(update={"capacity_tolerance": Decimal("0.20")})}
            )
        }
    )
    # A risky buyer (PD 72 %): the order loses money at 60 days, shorter terms rescue it; it goes
    # above the capacity of 100,000 but within the tolerance, so the answer's limit is 120,000.
    outcome = evaluate(tolerant, request=_order("15000"), account=_facts(pd=Decimal("0.72")), position=_position(limit="25000", exposure="100000"), rates=SAME)
    assert outcome.decision == "approved_with_conditions" and outcome.limit_basis == "economic_capacity"
    assert outcome.decision_limit == Decimal("120000.00") >= Decimal("115000")
