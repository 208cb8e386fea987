"""What the simulated company's ERP and credit managers talk to: creditguard (live, over REST and
Kafka) or, for the comparisons, nothing at all (every order approved) or the static limits an
ERP ships (one fixed limit per customer, blocked when over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from creditguard_simulation.book import Buyer
from creditguard_simulation.orders import Order


@dataclass(frozen=True)
class CheckOutcome:
    order_id: str
    decision: str  # approved, approved_with_conditions, referred, rejected
    check_id: str | None = None
    conditions: tuple[dict, ...] = ()
    terms_days: int | None = None
    limit_amount: Decimal | None = None
    exposure_after: Decimal | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvoiceDocument:
    invoice_id: str
    buyer_id: str
    order_id: str
    amount: Decimal
    issued_day: int
    due_day: int


@dataclass(frozen=True)
class PaymentDocument:
    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: Decimal
    day: int


@dataclass(frozen=True)
class ReferralDecision:
    check_id: str
    order_id: str
    approve: bool
    comment: str


@dataclass(frozen=True)
class Signal:
    """An early warning the system raised about a buyer (an alert, seen by poll or webhook)."""

    buyer_id: str
    kind: str
    severity: str
    day: int


@dataclass(frozen=True)
class CollectionCase:
    case_id: str
    buyer_id: str
    invoice_id: str | None = None


@dataclass(frozen=True)
class Promise:
    case_id: str
    buyer_id: str
    promised_day: int
    amount: Decimal


@dataclass
class DaySignals:
    alerts: list[Signal] = field(default_factory=list)
    open_cases: list[CollectionCase] = field(default_factory=list)
    # Buyers whose collection case reached the level that says: notify the insurer now.
    insurer_prompts: list[Signal] = field(default_factory=list)


@dataclass(frozen=True)
class History:
    """What the company brings when it adopts a credit system: its invoices of the last
    ``history_days``, the payments made on them before the first day, and when each relationship began."""

    invoices: list[InvoiceDocument]
    payments: list[PaymentDocument]
    relationships: dict[str, date]
    history_days: int


class CreditSystem(Protocol):
    name: str

    async def set_up(self, book: list[Buyer], history: History) -> dict[str, int | None]:
        """Register the existing book and import its history; answers each buyer's grade at the start (None when ungraded)."""

    async def onboard(self, buyers: list[Buyer], day: int) -> dict[str, int | None]:
        """Register buyers won during the year; answers their grades."""

    async def start_day(self, day: int) -> None: ...

    async def record_defaults(self, buyers: list[Buyer], day: int) -> None: ...

    async def post_payments(self, payments: list[PaymentDocument]) -> None: ...

    async def check_orders(self, orders: list[Order]) -> list[CheckOutcome]: ...

    async def available_credit(self, buyer_ids: list[str]) -> dict[str, Decimal | None]: ...

    async def decide_referrals(self, decisions: list[ReferralDecision]) -> set[str]:
        """Records the decisions; answers the check ids whose approval the system accepted."""

    async def post_invoices(self, invoices: list[InvoiceDocument]) -> None: ...

    async def run_daily_jobs(self, day: int) -> None: ...

    async def signals(self, day: int) -> DaySignals: ...

    async def record_promises(self, promises: list[Promise]) -> None: ...

    async def webhooks_received(self) -> int: ...


class ApproveEverything:
    """The counterfactual: the same book and seed with no credit control, every order approved."""

    name = "every order approved"

    async def set_up(self, book: list[Buyer], history: History) -> dict[str, int | None]:
        return {buyer.buyer_id: None for buyer in book}

    async def onboard(self, buyers: list[Buyer], day: int) -> dict[str, int | None]:
        return {buyer.buyer_id: None for buyer in buyers}

    async def start_day(self, day: int) -> None:
        return None

    async def record_defaults(self, buyers: list[Buyer], day: int) -> None:
        return None

    async def post_payments(self, payments: list[PaymentDocument]) -> None:
        return None

    async def check_orders(self, orders: list[Order]) -> list[CheckOutcome]:
        return [CheckOutcome(order_id=o.order_id, decision="approved") for o in orders]

    async def available_credit(self, buyer_ids: list[str]) -> dict[str, Decimal | None]:
        return dict.fromkeys(buyer_ids)

    async def decide_referrals(self, decisions: list[ReferralDecision]) -> set[str]:
        return {d.check_id for d in decisions if d.approve}

    async def post_invoices(self, invoices: list[InvoiceDocument]) -> None:
        return None

    async def run_daily_jobs(self, day: int) -> None:
        return None

    async def signals(self, day: int) -> DaySignals:
        return DaySignals()

    async def record_promises(self, promises: list[Promise]) -> None:
        return None

    async def webhooks_received(self) -> int:
        return 0


class StaticLimits(ApproveEverything):
    """The baseline ERPs ship: one fixed limit per customer, ``months`` of its average purchases
    (from the history the company brings; for a new customer, from the purchases the salesperson
    expects), rounded up to a thousand; an order that would take the open invoices above it is blocked."""

    name = "static limits"

    def __init__(self, *, months: int = 2) -> None:
        self.months = months
        self.limits: dict[str, Decimal] = {}
        self._open: dict[str, Decimal] = {}
        self._approved_today: dict[str, Decimal] = {}

    def _limit(self, monthly_purchases: Decimal) -> Decimal:
        return (monthly_purchases * self.months / 1000).to_integral_value(rounding=ROUND_CEILING) * 1000

    async def set_up(self, book: list[Buyer], history: History) -> dict[str, int | None]:
        purchases = {buyer.buyer_id: Decimal(0) for buyer in book}
        for invoice in history.invoices:
            purchases[invoice.buyer_id] += invoice.amount
            self._open[invoice.buyer_id] = self._open.get(invoice.buyer_id, Decimal(0)) + invoice.amount
        for payment in history.payments:
            self._open[payment.buyer_id] -= payment.amount
        months_of_history = Decimal(history.history_days) / Decimal("30.4")
        self.limits.update({buyer_id: self._limit(total / months_of_history) for buyer_id, total in purchases.items()})
        return await super().set_up(book, history)

    async def onboard(self, buyers: list[Buyer], day: int) -> dict[str, int | None]:
        self.limits.update({b.buyer_id: self._limit(b.mean_order * Decimal(str(b.orders_per_year)) / 12) for b in buyers})
        return await super().onboard(buyers, day)

    async def check_orders(self, orders: list[Order]) -> list[CheckOutcome]:
        outcomes = []
        for order in orders:
            after = self._open.get(order.buyer_id, Decimal(0)) + self._approved_today.get(order.buyer_id, Decimal(0)) + order.amount
            limit = self.limits.get(order.buyer_id, Decimal(0))
            if after > limit:
                outcomes.append(
                    CheckOutcome(order_id=order.order_id, decision="rejected", limit_amount=limit, exposure_after=after, reasons=("limit_exceeded",))
                )
                continue
            self._approved_today[order.buyer_id] = self._approved_today.get(order.buyer_id, Decimal(0)) + order.amount
            outcomes.append(CheckOutcome(order_id=order.order_id, decision="approved", limit_amount=limit, exposure_after=after))
        return outcomes

    async def post_invoices(self, invoices: list[InvoiceDocument]) -> None:
        # Every approved order is invoiced the day it is approved: the day's approvals become open invoices.
        self._approved_today.clear()
        for invoice in invoices:
            self._open[invoice.buyer_id] = self._open.get(invoice.buyer_id, Decimal(0)) + invoice.amount

    async def post_payments(self, payments: list[PaymentDocument]) -> None:
        for payment in payments:
            self._open[payment.buyer_id] = self._open.get(payment.buyer_id, Decimal(0)) - payment.amount
