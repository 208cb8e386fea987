from __future__ import annotations

from datetime import date
from typing import NamedTuple

LATE_THRESHOLDS = (1, 15, 30, 60, 90)


def late_threshold_to_announce(*, due_on: date, today: date, announced: int) -> int | None:
    """The highest days-past-due threshold crossed and not yet announced. A sweep that missed
    days (or an invoice loaded late) announces only the highest one, not every step on the way."""
    days_past_due = (today - due_on).days
    crossed = [t for t in LATE_THRESHOLDS if t <= days_past_due and t > announced]
    return crossed[-1] if crossed else None


class BuyerPaymentRecord(NamedTuple):
    """A buyer's payment record on its account, for ramp-up and the cash-in forecast."""

    invoices_settled: int
    invoices_paid_on_time: int
    days_late_total: int

    def after_settlement(self, *, days_late: int) -> BuyerPaymentRecord:
        """The record once one more invoice is settled, ``days_late`` after its due date (at
        most 0: on time)."""
        return BuyerPaymentRecord(
            invoices_settled=self.invoices_settled + 1,
            invoices_paid_on_time=self.invoices_paid_on_time + (1 if days_late <= 0 else 0),
            days_late_total=self.days_late_total + max(days_late, 0),
        )


# How far past the service's clock a document may be dated (docs/limits.md): an invoice run or a
# credit note dated for the next business days, an ERP a time zone ahead. A payment is a fact: at
# most a day ahead, for time zones, so a future-dated payment never counts as paid on time.
INVOICE_DATED_AHEAD_DAYS = 7
PAYMENT_DATED_AHEAD_DAYS = 1
# The longest terms an invoice may carry.
MAX_INVOICE_TERMS_DAYS = 730


def invoice_date_problem(*, issued_on: date, due_on: date, today: date) -> tuple[str, str] | None:
    """(field, what is wrong) for an invoice whose dates cannot be right, or None."""
    if (issued_on - today).days > INVOICE_DATED_AHEAD_DAYS:
        return "issued_on", f"issued_on {issued_on} is more than {INVOICE_DATED_AHEAD_DAYS} days after today ({today})"
    if (due_on - issued_on).days > MAX_INVOICE_TERMS_DAYS:
        return "due_on", f"due_on {due_on} gives terms of more than {MAX_INVOICE_TERMS_DAYS} days"
    return None


def settlement_date_problem(*, kind: str, field: str, dated: date, invoice_issued_on: date | None, today: date) -> tuple[str, str] | None:
    """(field, what is wrong) for a payment or credit note dated in the future or before its
    invoice (when the invoice is known), or None."""
    ahead = PAYMENT_DATED_AHEAD_DAYS if kind == "Payment" else INVOICE_DATED_AHEAD_DAYS
    if (dated - today).days > ahead:
        return field, f"{field} {dated} is more than {ahead} day{'s' if ahead != 1 else ''} after today ({today})"
    if invoice_issued_on is not None and dated < invoice_issued_on:
        return field, f"{field} {dated} is before the invoice was issued ({invoice_issued_on})"
    return None


def refund_date_problem(*, refunded_on: date, today: date) -> tuple[str, str] | None:
    """A refund is a payment of ours: dated at most a day ahead, like the buyer's payments."""
    if (refunded_on - today).days > PAYMENT_DATED_AHEAD_DAYS:
        return "refunded_on", f"refunded_on {refunded_on} is more than {PAYMENT_DATED_AHEAD_DAYS} day after today ({today})"
    return None
