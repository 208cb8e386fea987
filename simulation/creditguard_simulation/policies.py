"""The credit managers' simple, documented rules (see docs/simulation.md).

- Referred orders wait REFERRAL_DELAY_DAYS, then a credit manager approves one only if the buyer
  is not insolvent, its oldest open invoice is no more days past due than USUAL_LATENESS_FACTOR
  times its mean days late so far plus MAX_DAYS_BEYOND_USUAL (a customer that always pays 30
  days late and does so again is not news; one that pays on time and is 20 days late is), and
  the order fits the buyer's available credit at that moment (so a manual approval never takes
  exposure above the limit); otherwise it is rejected.
- Conditions on an approval: a prepayment of p% is paid with the order, so only the rest is
  invoiced, except by a buyer that has stopped paying altogether (it has no cash to prepay and
  walks away); a buyer asked for a bank guarantee walks away (the order is lost); other conditions
  (e.g. shorter terms, given as the check's terms) are accepted.
- A collection case gets one call: the buyer promises to pay its overdue invoices on the day it
  really will (a promise kept), or, if it will not, PROMISE_HORIZON_DAYS ahead (a promise broken).
- Insurance: the insurer must hear of a non-payment within REPORT_OVERDUE_WITHIN_DAYS of the
  oldest unpaid invoice's due date, or the cover on it is lost. The credit manager reports on the
  first insurer-deadline alert about the buyer or when one of its collection cases reaches the
  insurer-notification level, and at the latest when the insolvency is public (the default day).
  Without creditguard only the insolvency triggers the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

REFERRAL_DELAY_DAYS = 2
MAX_DAYS_BEYOND_USUAL = 15
USUAL_LATENESS_FACTOR = 1.5
PROMISE_HORIZON_DAYS = 14
REPORT_OVERDUE_WITHIN_DAYS = 60
FILE_CLAIM_WITHIN_DAYS = 180
INDEMNITY_SHARE = Decimal("0.90")
INSURER_DEADLINE_ALERTS = frozenset({"insurance_report_deadline", "insurance_claim_deadline"})


@dataclass(frozen=True)
class ReferralRuling:
    approve: bool
    comment: str


def rule_on_referral(*, amount: Decimal, insolvent: bool, max_days_past_due: int, usual_days_late: float, available: Decimal | None) -> ReferralRuling:
    if insolvent:
        return ReferralRuling(False, "buyer is insolvent")
    if max_days_past_due > USUAL_LATENESS_FACTOR * usual_days_late + MAX_DAYS_BEYOND_USUAL:
        return ReferralRuling(False, f"an invoice is {max_days_past_due} days past due; the buyer usually pays {usual_days_late:.0f} days late")
    if available is not None and amount > available:
        return ReferralRuling(False, f"order {amount} exceeds available credit {available}")
    return ReferralRuling(True, "within available credit and paying as it usually does")


def invoiced_amount(amount: Decimal, conditions: tuple[dict, ...], *, can_prepay: bool = True) -> Decimal | None:
    """What is invoiced on credit after the conditions of an approval; None when the buyer walks away."""
    codes = {c.get("code") for c in conditions}
    if "bank_guarantee" in codes or ("prepayment" in codes and not can_prepay):
        return None
    prepaid = sum((Decimal(str(c.get("percentage", "0"))) for c in conditions if c.get("code") == "prepayment"), Decimal(0))
    remainder = (amount * (Decimal(100) - min(prepaid, Decimal(100))) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return remainder if remainder > 0 else None


def report_deadline(oldest_unpaid_due_day: int) -> int:
    return oldest_unpaid_due_day + REPORT_OVERDUE_WITHIN_DAYS


def insurer_pays(*, loss: Decimal, cover: Decimal) -> Decimal:
    return (min(loss, cover) * INDEMNITY_SHARE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
