"""Pure rules, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditguard_limits.checks.rules import AccountFacts, CheckRequest, Rates, evaluate
from creditguard_limits.fx.rules import RateTable
from creditguard_limits.ledger.rules import late_threshold_to_announce
from creditguard_limits.policy.rules import ConditionTemplate, PaymentExperience, capacity_limit, experienced_exposure, ramp_up_fraction
from creditguard_limits.policy.service import PolicyStore
from creditguard_limits.portfolio.rules import herfindahl, utilisation_bucket
from creditguard_limits.position.rules import Exposure, InvoiceTotals, Position, compute_exposure

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
    # A policy whose grade 7 asks for a prepayment and allows 30 days (the packaged one leaves conditions to the economics).
    grade_7 = POLICY.grades[7].model_copy(
        update={
            "action": "approved_with_conditions",
            "max_terms_days": 30,
            "conditions": [ConditionTemplate(code="prepayment", message="Prepay 40% of the order.", percentage=Decimal(40))],
        }
    )
    policy = POLICY.model_copy(update={"grades": {**POLICY.grades, 7: grade_7}})
    position = Position(
        buyer_id="B",
        currency="EUR",
        base_limit=Decimal("1000"),
        temporary_increase=Decimal(0),
        exposure=Exposure(currency="EUR", open_invoices=Decimal("900")),
        group=None,
        cover=None,
    )
    account = AccountFacts(status="active", grade=7, risk_class="elevated", review_on=None, payment_terms_days=30, unknown=False)
    outcome = evaluate(
        policy,
        request=CheckRequest(amount=Decimal("50"), additional=Decimal("50"), payment_terms_days=60, today=date(2026, 12, 1)),
        account=account,
        position=position,
        rates=Rates(to_position=lambda v: v),
    )
    assert outcome.decision == "approved_with_conditions"
    assert [r["code"] for r in outcome.reasons] == ["grade_risk", "terms_above_maximum"]
    assert {c["code"] for c in outcome.conditions} == {"prepayment", "shorter_terms"}
    blocked = evaluate(
        policy,
        request=CheckRequest(amount=Decimal("50"), additional=Decimal("50"), payment_terms_days=30, today=date(2026, 12, 1)),
        account=AccountFacts(**{**account.__dict__, "status": "blocked"}),
        position=position,
        rates=Rates(to_position=lambda v: v),
    )
    assert blocked.decision == "rejected" and blocked.conditions == []


def test_payment_experience_lifts_a_thin_balance_sheets_capacity_up_to_the_grades_maximum():
    grade = POLICY.grades[5]
    # A buyer with negative equity: its balance sheet allows nothing...
    assert capacity_limit(grade, equity=Decimal("-50000"), sales=Decimal("2000000")) == Decimal("0.00")
    # ...but 365,000 of purchases a year, paid 10 days late on 45-day terms, run up 365,000 x (45 + 10 + 30) / 365.
    experienced = experienced_exposure(PaymentExperience(headroom_days=30), purchases_12m=Decimal("365000"), terms_days=45, expected_days_late=Decimal(10))
    assert experienced == Decimal("85000.00")
    assert capacity_limit(grade, equity=Decimal("-50000"), sales=Decimal("2000000"), experienced=experienced) == Decimal("85000.00")
    # Experience never lowers a capacity the balance sheet gives, and never goes above the grade's maximum.
    assert capacity_limit(grade, equity=Decimal("10000000"), sales=Decimal("50000000"), experienced=experienced) == min(
        grade.max_limit, Decimal("10000000") * grade.equity_share, Decimal("50000000") * grade.sales_share
    )
    assert capacity_limit(grade, equity=None, sales=None, experienced=grade.max_limit * 3) == grade.max_limit
    assert experienced_exposure(PaymentExperience(enabled=False), purchases_12m=Decimal("365000"), terms_days=45, expected_days_late=Decimal(10)) == 0


def test_the_account_snapshot_has_every_column_of_the_account() -> None:
    """The credit check reads the account as an AccountSnapshot: a column added to credit_accounts
    must be added to it too, or the check would decide without it."""
    from dataclasses import fields

    from creditguard_limits.models.accounts import CreditAccount
    from creditguard_limits.position.repository import AccountSnapshot

    assert [f.name for f in fields(AccountSnapshot)] == [column.key for column in CreditAccount.__table__.columns]


def test_new_document_rows_have_every_column_of_their_tables():
    """Invoice runs and bank statements write their new documents from InvoiceRow and PaymentRow
    rows: a column added to invoices or payments must be added to them too, or a batch would
    write without it."""
    from dataclasses import fields

    from creditguard_limits.ledger.repository import InvoiceRow, PaymentRow
    from creditguard_limits.models.ledger import Invoice, Payment

    for row_type, model in ((InvoiceRow, Invoice), (PaymentRow, Payment)):
        assert sorted(f.name for f in fields(row_type)) == sorted(column.key for column in model.__table__.columns)


def test_exposure_converts_each_currency_then_splits_overdue_into_buckets():
    """Invoices, orders and unapplied cash in two currencies: each foreign amount converted to
    cents, the cumulative past-due amounts split into their buckets, the oldest due date counted."""
    usd_in_eur = RateTable(reporting_currency="EUR", rates={"USD": Decimal("0.9")})
    past_due = (1, 16, 31, 61, 91)
    exposure = compute_exposure(
        invoices=[
            InvoiceTotals(
                "EUR", Decimal("1000.00"), dict(zip(past_due, map(Decimal, ("600.00", "400.00", "100.00", "0", "0")), strict=True)), date(2026, 11, 1)
            ),
            InvoiceTotals(
                "USD", Decimal("500.00"), dict(zip(past_due, map(Decimal, ("500.00", "500.00", "200.00", "200.00", "50.00")), strict=True)), date(2026, 8, 15)
            ),
        ],
        orders={"EUR": Decimal("250.00"), "USD": Decimal("100.00")},
        cash={"USD": Decimal("10.01")},
        rates=usd_in_eur,
        currency="EUR",
        today=date(2026, 12, 1),
    )
    assert exposure.open_invoices == Decimal("1450.00")
    assert exposure.open_orders == Decimal("340.00")
    assert exposure.unapplied_cash == Decimal("9.01")  # 9.009 rounded to the cent
    assert exposure.overdue_by_bucket == {
        "1-15": Decimal("200.00"),
        "16-30": Decimal("570.00"),
        "31-60": Decimal("100.00"),
        "61-90": Decimal("135.00"),
        "90+": Decimal("45.00"),
    }
    assert exposure.overdue == Decimal("1050.00")
    assert exposure.oldest_overdue_days == 108
    assert exposure.total == Decimal("1780.99")


def test_a_settled_invoice_adds_to_the_buyers_payment_record():
    """Paid early or on the due date counts as on time and adds no days late; paid late adds its days."""
    from creditguard_limits.ledger.rules import BuyerPaymentRecord

    record = BuyerPaymentRecord(invoices_settled=4, invoices_paid_on_time=3, days_late_total=10)
    assert record.after_settlement(days_late=-5) == BuyerPaymentRecord(5, 4, 10)
    assert record.after_settlement(days_late=0) == BuyerPaymentRecord(5, 4, 10)
    assert record.after_settlement(days_late=16) == BuyerPaymentRecord(5, 3, 26)
