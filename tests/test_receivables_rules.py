from datetime import date
from decimal import Decimal

from creditguard_shared.receivables import settle


def test_settlement_in_any_order():
    state = settle(Decimal("100.00"), [(date(2026, 3, 1), Decimal("60.00")), (date(2026, 2, 1), Decimal("40.00"))])
    assert state.open_amount == Decimal("0.00")
    assert state.settled_on == date(2026, 3, 1)


def test_partial_and_over_settlement():
    assert settle(Decimal("100.00"), [(date(2026, 2, 1), Decimal("30.00"))]).open_amount == Decimal("70.00")
    over = settle(Decimal("100.00"), [(date(2026, 2, 1), Decimal("130.00"))])
    assert over.open_amount == Decimal("0.00") and over.settled_on == date(2026, 2, 1)
    assert settle(Decimal("100.00"), []).settled_on is None
