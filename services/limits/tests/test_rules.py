"""Pure rules, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditguard_limits.checks.rules import AccountFacts, CheckRequest, Rates, evaluate
from creditguard_limits.exposure.rules import Exposure, Position
from creditguard_limits.ledger.rules import late_threshold_to_announce
from creditguard_limits.policy.rules import ramp_up_fraction
from creditguard_limits.policy.service import PolicyStore
from creditguard_limits.portfolio.rules import herfindahl, utilisation_bucket

POLICY = PolicyStore(None).current


def test_late_thresholds_announce_the_highest_newly_crossed():
    due = date(2026, 1, 1)
    assert late_threshold_to_announce(due_on=due, today=date(2026, 1, 1), announced=0) is None
    assert late_threshold_to_announce(due_on=due, today=date(2026, 1, 2), announced=0) == 1
    assert late_threshold_to_announce(due_on=due, today=date(2026, 1, 20), announced=1) == 15
    assert late_threshold_to_announce(due_on=due, today=date(2026, 1, 20), announced=15) is None
    assert late_threshold_to_announce(due_on=due, today=date(2026, 6, 1), announced=15) == 90


def test_ramp_up_and_concentration():
    assert ramp_up_fraction(POLICY.ramp_up, invoices_paid_on_time=0) == Decimal("0.25")
    assert ramp_up_fraction(POLICY.ramp_up, invoices_paid_on_time=10) == Decimal(1)
    assert herfindahl([Decimal(1)] * 4) == 0.25
    assert [utilisation_bucket(u) for u in (0.1, 0.5, 0.99, 1.0, 1.01)] == ["0-50", "50-80", "80-100", "80-100", "100+"]


def test_most_severe_action_wins_and_all_reasons_are_listed():
    position = Position(buyer_id="B", currency="EUR", base_limit=Decimal("1000"), temporary_increase=Decimal(0),
                        exposure=Exposure(currency="EUR", open_invoices=Decimal("900")), group=None, cover=None)
    account = AccountFacts(status="active", grade=7, risk_class="elevated", review_on=None, payment_terms_days=30, unknown=False)
    outcome = evaluate(POLICY, request=CheckRequest(amount=Decimal("50"), additional=Decimal("50"), payment_terms_days=60, today=date(2026, 12, 1)),
                       account=account, position=position, rates=Rates(to_position=lambda v: v))
    assert outcome.decision == "approved_with_conditions"
    assert [r["code"] for r in outcome.reasons] == ["grade_risk", "terms_above_maximum"]
    assert {c["code"] for c in outcome.conditions} == {"prepayment", "shorter_terms"}
    blocked = evaluate(POLICY, request=CheckRequest(amount=Decimal("50"), additional=Decimal("50"), payment_terms_days=30, today=date(2026, 12, 1)),
                       account=AccountFacts(**{**account.__dict__, "status": "blocked"}), position=position, rates=Rates(to_position=lambda v: v))
    assert blocked.decision == "rejected" and blocked.conditions == []
