"""Pure rules: severities, deadlines, shares, signatures, backoff, address safety, collection levels."""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal
from ipaddress import ip_network

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from creditguard_alerts.collection_cases import rules as collection_rules
from creditguard_alerts.early_warning import rules as alert_rules
from creditguard_alerts.webhooks import rules as webhook_rules


@pytest.mark.parametrize(
    ("dpd", "expected"), [(0, None), (1, (1, "info")), (14, (1, "info")), (15, (15, "low")), (45, (30, "medium")), (120, (90, "critical"))]
)
def test_payment_delay_ladder(dpd, expected):
    assert alert_rules.payment_delay_severity(alert_rules.DEFAULT_PAYMENT_DELAY_LADDER, dpd) == expected


def test_insurer_deadline_warns_before_and_flags_missed():
    due = date(2026, 10, 1)
    assert alert_rules.insurer_deadline(due_on=due, within_days=30, days_before=7, today=date(2026, 10, 23)) is None
    assert alert_rules.insurer_deadline(due_on=due, within_days=30, days_before=7, today=date(2026, 10, 24)) == alert_rules.DeadlineState(
        date(2026, 10, 31), False
    )
    assert alert_rules.insurer_deadline(due_on=due, within_days=30, days_before=7, today=date(2026, 11, 1)).missed


def test_score_and_risk_class_moves():
    assert alert_rules.is_downgrade(old_grade=3, new_grade=5, grades=2)
    assert not alert_rules.is_downgrade(old_grade=3, new_grade=4, grades=2)
    assert not alert_rules.is_downgrade(old_grade=None, new_grade=9, grades=2)
    order = alert_rules.DEFAULT_RISK_CLASS_ORDER
    assert alert_rules.risk_class_move(order, "medium", "high") > 0
    assert alert_rules.risk_class_move(order, "high", "low") < 0
    assert alert_rules.risk_class_move(order, "unknown", "high") == 0
    # Scoring's worst class is in the order, under either spelling: a move into it is a worsening.
    assert alert_rules.risk_class_move(order, "high", "very_high") > 0
    assert alert_rules.risk_class_move(order, "high", "very high") > 0
    assert alert_rules.risk_class_move(["low", "very high"], "low", "very_high") > 0


def test_risk_classes_are_one_enumeration_normalised_on_input():
    from pydantic import ValidationError

    from creditguard_shared.events.contracts import RiskClass, ScoreChangedV1

    assert alert_rules.DEFAULT_RISK_CLASS_ORDER == ["low", "medium", "high", "very_high"]
    assert collection_rules.DEFAULT_STRATEGIES[0]["risk_classes"] == ["high", "very_high"]
    old_event = {
        "buyer_id": "B1",
        "old_grade": 7,
        "new_grade": 10,
        "old_risk_class": "high",
        "new_risk_class": "very high",
        "pd": 0.4,
        "model_version": "m",
        "assessed_at": "2026-11-01T00:00:00Z",
    }
    parsed = ScoreChangedV1.model_validate(old_event)
    assert parsed.new_risk_class is RiskClass.VERY_HIGH and parsed.model_dump(mode="json")["new_risk_class"] == "very_high"
    with pytest.raises(ValidationError):
        ScoreChangedV1.model_validate({**old_event, "new_risk_class": "severe"})
    segment = collection_rules.Segment(risk_class="very high", industry=None, amount=Decimal("10"))
    assert collection_rules.in_segment(segment=segment, risk_classes=["high", "very_high"], industries=None, min_amount=None, max_amount=None)


def test_severity_bands_follow_how_far_the_condition_has_gone():
    assert alert_rules.utilisation_severity(utilisation=0.85, base="medium") == "medium"
    assert alert_rules.utilisation_severity(utilisation=1.0, base="medium") == "high"
    assert alert_rules.utilisation_severity(utilisation=1.6, base="medium") == "critical"
    assert alert_rules.utilisation_severity(utilisation=1.2, base="critical") == "critical"
    assert alert_rules.downgrade_severity(old_grade=3, new_grade=5, base="medium") == "medium"
    assert alert_rules.downgrade_severity(old_grade=3, new_grade=7, base="medium") == "high"
    assert alert_rules.downgrade_severity(old_grade=1, new_grade=10, base="medium") == "critical"


def test_a_zero_limit_is_breached_by_any_exposure():
    assert alert_rules.over_limit(exposure=Decimal("0.01"), limit=Decimal("0"))
    assert not alert_rules.over_limit(exposure=Decimal("0"), limit=Decimal("0"))
    assert not alert_rules.over_limit(exposure=Decimal("100"), limit=Decimal("100"))
    assert not alert_rules.over_limit(exposure=Decimal("100"), limit=None)


@pytest.mark.parametrize(
    ("industry", "level", "group"),
    [
        ("28", "division", "28"),
        ("28.1", "division", "28"),
        ("28.92", "division", "28"),
        ("28.1", "section", "C"),
        ("10", "section", "C"),
        ("C", "division", "C"),
        ("C", "section", "C"),
        ("machinery", "division", "machinery"),
        ("machinery", "section", "machinery"),
    ],
)
def test_industries_group_by_the_chosen_nace_level(industry, level, group):
    assert alert_rules.industry_group(industry, level=level) == group


def test_concentration_shares_by_group():
    rows = [
        alert_rules.Exposure("B1", "DE", "steel", Decimal("600")),
        alert_rules.Exposure("B2", "DE", None, Decimal("300")),
        alert_rules.Exposure("B3", "FR", "steel", Decimal("100")),
    ]
    assert alert_rules.shares(rows, key="buyer_id") == {"B1": 0.6, "B2": 0.3, "B3": 0.1}
    assert alert_rules.shares(rows, key="country") == {"DE": 0.9, "FR": 0.1}
    assert alert_rules.shares(rows, key="industry") == {"steel": 0.7}


def test_signature_verifies_with_the_reference_library():
    secret = webhook_rules.new_secret()
    body = b'{"type":"alert.raised","data":{}}'
    timestamp = int(time.time())
    signature = webhook_rules.sign(secret=secret, message_id="msg_1", timestamp=timestamp, body=body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    assert Webhook(secret).verify(body, headers) == {"type": "alert.raised", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_rules.new_secret()).verify(body, headers)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    delays = [webhook_rules.retry_delay_seconds(attempts=n, base=5, cap=3600, rng=rng) for n in range(1, 12)]
    assert 2.5 <= delays[0] <= 5 and 20 <= delays[3] <= 40
    assert all(1800 <= d <= 3600 for d in delays[-2:])


@pytest.mark.parametrize(
    ("address", "allowed", "refused"),
    [
        ("8.8.8.8", [], False),
        ("127.0.0.1", [], True),
        ("127.0.0.1", ["127.0.0.0/8"], False),
        ("10.0.0.5", [], True),
        ("192.168.1.1", [], True),
        ("169.254.169.254", [], True),
        ("::1", ["127.0.0.0/8"], True),
        ("::ffff:10.0.0.1", [], True),
        ("fe80::1", [], True),
        ("224.0.0.1", [], True),
        ("0.0.0.0", [], True),
        ("100.64.0.1", [], True),
    ],
)
def test_unsafe_addresses(address, allowed, refused):
    assert (webhook_rules.unsafe_address(address, [ip_network(n) for n in allowed]) is not None) is refused


def test_subscription_filters():
    assert webhook_rules.matches({}, buyer_id="B1", account_owner=None, severity="info")
    assert not webhook_rules.matches({"buyer_ids": ["B2"]}, buyer_id="B1", account_owner=None, severity=None)
    assert not webhook_rules.matches({"account_owners": ["anna"]}, buyer_id="B1", account_owner="bob", severity=None)
    assert not webhook_rules.matches({"min_severity": "high"}, buyer_id="B1", account_owner=None, severity="medium")
    assert webhook_rules.matches({"min_severity": "high"}, buyer_id="B1", account_owner=None, severity=None)


def test_collection_levels_and_segments():
    levels = collection_rules.DEFAULT_STRATEGIES[-1]["levels"]
    assert collection_rules.target_level_index(levels, 0) == -1
    assert levels[collection_rules.target_level_index(levels, 47)]["level"] == "stop_supplies"
    segment = collection_rules.Segment(risk_class="high", industry="steel", amount=Decimal("150000"))
    assert collection_rules.in_segment(segment=segment, risk_classes=["high"], industries=None, min_amount=None, max_amount=None)
    assert not collection_rules.in_segment(segment=segment, risk_classes=None, industries=["retail"], min_amount=None, max_amount=None)
    assert not collection_rules.in_segment(segment=segment, risk_classes=None, industries=None, min_amount=None, max_amount=Decimal("100000"))
    assert collection_rules.escalation_paused(promised_until=date(2026, 10, 20), disputed=False, today=date(2026, 10, 20))
    assert not collection_rules.escalation_paused(promised_until=date(2026, 10, 20), disputed=False, today=date(2026, 10, 21))
    assert collection_rules.escalation_paused(promised_until=None, disputed=True, today=date(2026, 10, 21))
