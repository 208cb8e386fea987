"""What the simulated company's ERP and credit managers talk to: creditguard (live, over REST and
Kafka) or, for the counterfactual, nothing at all (every order approved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
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


class CreditSystem(Protocol):
    name: str

    async def set_up(self, book: list[Buyer]) -> dict[str, int | None]:
        """Register the book; answers each buyer's grade at the start (None when ungraded)."""

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

    async def set_up(self, book: list[Buyer]) -> dict[str, int | None]:
        return {buyer.buyer_id: None for buyer in book}

    async def start_day(self, day: int) -> None:
        return None

    async def record_defaults(self, buyers: list[Buyer], day: int) -> None:
        return None

    async def post_payments(self, payments: list[PaymentDocument]) -> None:
        return None

    async def check_orders(self, orders: list[Order]) -> list[CheckOutcome]:
        return [CheckOutcome(order_id=o.order_id, decision="approved") for o in orders]

    async def available_credit(self, buyer_ids: list[str]) -> dict[str, Decimal | None]:
        return {buyer_id: None for buyer_id in buyer_ids}

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
