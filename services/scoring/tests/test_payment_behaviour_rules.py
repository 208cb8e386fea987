from datetime import date
from decimal import Decimal

from creditguard_scoring.models.payment_behaviour import PaymentExperience
from creditguard_scoring.payment_behaviour.rules import payment_index, summarise


def _experience(invoice_id: str, amount: str, due: date, settled: date | None, open_amount: str = "0") -> PaymentExperience:
    return PaymentExperience(
        invoice_id=invoice_id,
        buyer_id="B",
        amount=Decimal(amount),
        currency="EUR",
        issued_on=due,
        due_on=due,
        open_amount=Decimal(open_amount),
        settled_on=settled,
        max_days_past_due=0,
    )


def test_payment_index_anchors():
    assert payment_index(0) == 80
    assert payment_index(-30) == 100
    assert payment_index(30) == 50
    assert payment_index(400) == 0
    assert payment_index(7.5) == 75.0
    assert payment_index(10) > payment_index(20)


def test_summary_weights_by_amount_and_counts_open_overdue():
    as_of = date(2026, 6, 30)
    experiences = [
        _experience("on-time", "9000", date(2026, 5, 1), date(2026, 5, 1)),
        _experience("late", "1000", date(2026, 5, 1), date(2026, 5, 31)),  # 30 days beyond terms
        _experience("open", "500", date(2026, 6, 20), None, open_amount="500"),  # 10 days overdue so far
    ]
    summary = summarise(experiences, as_of=as_of)
    assert summary.average_days_beyond_terms == round((1000 * 30 + 500 * 10) / 10500, 1)
    assert summary.share_paid_late == 0.5
    assert summary.overdue_amount == Decimal("500")
    assert summary.worst_days_past_due_12m == 10
    assert summary.invoices_open == 1
    assert 75 < summary.payment_index < 80


def test_no_history_means_no_index():
    summary = summarise([], as_of=date(2026, 1, 1))
    assert summary.payment_index is None and summary.share_paid_late is None
