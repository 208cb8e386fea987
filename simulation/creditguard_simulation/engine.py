"""Runs a book day by day against a credit system and records what happened.

The world (orders, payments, defaults) is drawn from the seed alone; only what the credit system
decides changes which orders become invoices. Running the same seed against ApproveEverything
gives the counterfactual."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from creditguard_simulation import policies
from creditguard_simulation.behaviour import payment_schedule
from creditguard_simulation.book import BookConfig, Buyer
from creditguard_simulation.calendar import SimulatedCalendar
from creditguard_simulation.orders import Order, buyer_orders, history_orders
from creditguard_simulation.system import (
    CheckOutcome,
    CollectionCase,
    CreditSystem,
    History,
    InvoiceDocument,
    PaymentDocument,
    Promise,
    ReferralDecision,
)

ZERO = Decimal(0)


@dataclass
class OpenInvoice:
    document: InvoiceDocument
    schedule: list[tuple[int, Decimal]]
    paid: Decimal = ZERO

    @property
    def open_amount(self) -> Decimal:
        return self.document.amount - self.paid


@dataclass
class OrderRecord:
    order: Order
    decision: str
    outcome: str = "pending"  # invoiced, rejected, walked_away, pending
    decided_day: int | None = None
    invoiced: Decimal = ZERO
    check: CheckOutcome | None = None


@dataclass
class DefaultRecord:
    buyer_id: str
    day: int
    loss: Decimal
    insured: bool
    cover: Decimal
    oldest_unpaid_due_day: int | None
    first_warning_day: int | None = None
    reported_day: int | None = None

    @property
    def report_in_time(self) -> bool | None:
        if not self.insured or self.loss <= 0 or self.oldest_unpaid_due_day is None:
            return None
        return self.reported_day is not None and self.reported_day <= policies.report_deadline(self.oldest_unpaid_due_day)

    @property
    def recovered(self) -> Decimal:
        return policies.insurer_pays(loss=self.loss, cover=self.cover) if self.report_in_time else ZERO


@dataclass
class RunResult:
    system: str
    config: BookConfig
    grades: dict[str, int | None]
    orders: list[OrderRecord] = field(default_factory=list)
    invoices: dict[str, OpenInvoice] = field(default_factory=dict)
    # What the book brought from before the first day: its invoices go on being paid (or not) in the run.
    history_invoices: dict[str, OpenInvoice] = field(default_factory=dict)
    insured_buyers: dict[str, bool] = field(default_factory=dict)
    # Each buyer's probability of default when it was graded at the start (or when it was won).
    pds: dict[str, float] = field(default_factory=dict)
    # Scoring's back-test of the first day's PDs against the run's defaults, as its API answers it.
    backtest: dict | None = None
    defaults: dict[str, DefaultRecord] = field(default_factory=dict)
    first_warning: dict[str, int] = field(default_factory=dict)
    # The first day an insurer-deadline alert made the credit manager report the buyer to the insurer.
    insurer_reports: dict[str, int] = field(default_factory=dict)
    warnings_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cases_seen: set[str] = field(default_factory=set)
    case_buyers: set[str] = field(default_factory=set)
    promises: list[Promise] = field(default_factory=list)
    daily_receivables: list[Decimal] = field(default_factory=list)
    payments_posted: Decimal = ZERO
    open_total: Decimal = ZERO
    webhooks: int = 0
    wall_seconds: float = 0.0
    setup_seconds: float = 0.0
    # Wall time of each step of the simulated days, summed over the run: where a slow run waits.
    seconds_by_phase: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # Wall time of each simulated day, in order: shows whether days grow slower as the book fills.
    seconds_by_day: list[float] = field(default_factory=list)

    @property
    def invoiced_total(self) -> Decimal:
        return sum((i.document.amount for i in self.invoices.values()), ZERO)

    def all_invoices(self) -> list[OpenInvoice]:
        return [*self.history_invoices.values(), *self.invoices.values()]


@dataclass
class _Referral:
    record: OrderRecord
    check_id: str
    decide_on: int


class Simulation:
    def __init__(self, *, book: list[Buyer], config: BookConfig, system: CreditSystem) -> None:
        self.book = {b.buyer_id: b for b in book}
        self.config = config
        self.system = system
        self.calendar = SimulatedCalendar(start=config.start, days=config.days)
        self.result: RunResult | None = None
        self._orders_by_day: dict[int, list[Order]] = defaultdict(list)
        self._joining: dict[int, list[Buyer]] = defaultdict(list)
        for buyer in book:
            for order in buyer_orders(buyer, calendar=self.calendar, seed=config.seed):
                self._orders_by_day[order.day].append(order)
            if buyer.is_new:
                self._joining[buyer.joins_day].append(buyer)
        self._open_by_buyer: dict[str, list[OpenInvoice]] = defaultdict(list)
        self._all_by_buyer: dict[str, list[OpenInvoice]] = defaultdict(list)
        self._referrals: list[_Referral] = []
        self._insolvent: set[str] = set()
        self._promised_cases: set[str] = set()
        self._history_invoices, self.history = self._book_history()

    def _book_history(self) -> tuple[list[OpenInvoice], History]:
        """The existing book's invoices before the first day and the payments made on them by then:
        the same in every run of the seed, whatever the credit system."""
        invoices: list[OpenInvoice] = []
        payments: list[PaymentDocument] = []
        for buyer in self.book.values():
            for order in history_orders(buyer, calendar=self.calendar, seed=self.config.seed, history_days=self.config.history_days):
                document = InvoiceDocument(
                    invoice_id=f"INV-{order.order_id[3:]}",
                    buyer_id=order.buyer_id,
                    order_id=order.order_id,
                    amount=order.amount,
                    issued_day=order.day,
                    due_day=order.day + order.terms_days,
                )
                schedule = payment_schedule(
                    buyer, invoice_id=document.invoice_id, amount=order.amount, due_day=document.due_day, days=self.config.days, seed=self.config.seed
                )
                paid = [(number, day, amount) for number, (day, amount) in enumerate(schedule, start=1) if day < 0]
                payments += [
                    PaymentDocument(
                        payment_id=f"PAY-{document.invoice_id}-{number}", buyer_id=buyer.buyer_id, invoice_id=document.invoice_id, amount=amount, day=day
                    )
                    for number, day, amount in paid
                ]
                invoices.append(OpenInvoice(document=document, schedule=schedule, paid=sum((amount for _, _, amount in paid), ZERO)))
        relationships = {b.buyer_id: b.relationship_since for b in self.book.values() if not b.is_new and b.relationship_since}
        return invoices, History(invoices=[i.document for i in invoices], payments=payments, relationships=relationships, history_days=self.config.history_days)

    async def run(self, *, on_day: Callable[[int], object] | None = None) -> RunResult:
        started = time.perf_counter()
        grades = await self.system.set_up([b for b in self.book.values() if not b.is_new], self.history)
        self.result = RunResult(system=self.system.name, config=self.config, grades=grades, insured_buyers={b.buyer_id: b.insured for b in self.book.values()})
        for invoice in self._history_invoices:
            self._all_by_buyer[invoice.document.buyer_id].append(invoice)
            self.result.history_invoices[invoice.document.invoice_id] = invoice
            self.result.open_total += invoice.open_amount
            if invoice.open_amount > 0:
                self._open_by_buyer[invoice.document.buyer_id].append(invoice)
        self.result.setup_seconds = time.perf_counter() - started
        for day in range(self.config.days):
            self.calendar.day = day
            day_started = time.perf_counter()
            await self._simulate_day(day)
            self.result.seconds_by_day.append(time.perf_counter() - day_started)
            if on_day:
                on_day(day)
        self.result.webhooks = await self.system.webhooks_received()
        return self.result

    @contextmanager
    def _phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            assert self.result is not None
            self.result.seconds_by_phase[name] += time.perf_counter() - started

    async def _simulate_day(self, day: int) -> None:
        with self._phase("clock"):
            await self.system.start_day(day)
        if self._joining.get(day):
            with self._phase("new buyers"):
                assert self.result is not None
                self.result.grades.update(await self.system.onboard(self._joining[day], day))
        with self._phase("defaults"):
            await self._defaults(day)
        with self._phase("payments"):
            await self._payments(day)
        with self._phase("credit checks"):
            invoices = await self._orders(day)
        with self._phase("referrals"):
            invoices += await self._referrals_due(day)
        with self._phase("invoices"):
            await self.system.post_invoices(invoices)
        with self._phase("daily jobs"):
            await self.system.run_daily_jobs(day)
        with self._phase("signals and promises"):
            await self._signals(day)
        assert self.result is not None
        self.result.daily_receivables.append(self.result.open_total)

    async def _defaults(self, day: int) -> None:
        assert self.result is not None
        defaulting = [b for b in self.book.values() if b.default_day == day]
        for buyer in defaulting:
            self._insolvent.add(buyer.buyer_id)
            unpaid = [i for i in self._open_by_buyer[buyer.buyer_id] if i.open_amount > 0]
            record = DefaultRecord(
                buyer_id=buyer.buyer_id,
                day=day,
                loss=sum((i.open_amount for i in unpaid), ZERO),
                insured=buyer.insured,
                cover=buyer.insurance_cover,
                oldest_unpaid_due_day=min((i.document.due_day for i in unpaid), default=None),
                first_warning_day=self.result.first_warning.get(buyer.buyer_id),
            )
            # The insolvency is public on the default day: the credit manager reports it then at the latest.
            record.reported_day = min(day, self.result.insurer_reports.get(buyer.buyer_id, day))
            self.result.defaults[buyer.buyer_id] = record
        if defaulting:
            await self.system.record_defaults(defaulting, day)

    async def _payments(self, day: int) -> None:
        assert self.result is not None
        payments = []
        for invoices in self._open_by_buyer.values():
            for invoice in invoices:
                for number, (pay_day, amount) in enumerate(invoice.schedule, start=1):
                    if pay_day == day:
                        payments.append(
                            PaymentDocument(
                                payment_id=f"PAY-{invoice.document.invoice_id}-{number}",
                                buyer_id=invoice.document.buyer_id,
                                invoice_id=invoice.document.invoice_id,
                                amount=amount,
                                day=day,
                            )
                        )
                        invoice.paid += amount
                        self.result.payments_posted += amount
                        self.result.open_total -= amount
        await self.system.post_payments(payments)
        for buyer_id, invoices in self._open_by_buyer.items():
            self._open_by_buyer[buyer_id] = [i for i in invoices if i.open_amount > 0]

    def _invoice(self, record: OrderRecord, amount: Decimal, day: int) -> InvoiceDocument:
        assert self.result is not None
        order = record.order
        terms = min(order.terms_days, record.check.terms_days) if record.check and record.check.terms_days else order.terms_days
        document = InvoiceDocument(
            invoice_id=f"INV-{order.order_id[3:]}",
            buyer_id=order.buyer_id,
            order_id=order.order_id,
            amount=amount,
            issued_day=day,
            due_day=day + terms,
        )
        buyer = self.book[order.buyer_id]
        schedule = payment_schedule(
            buyer, invoice_id=document.invoice_id, amount=amount, due_day=document.due_day, days=self.config.days, seed=self.config.seed
        )
        invoice = OpenInvoice(document=document, schedule=schedule)
        self.result.invoices[document.invoice_id] = invoice
        self.result.open_total += amount
        self._open_by_buyer[order.buyer_id].append(invoice)
        self._all_by_buyer[order.buyer_id].append(invoice)
        record.outcome, record.decided_day, record.invoiced = "invoiced", day, amount
        return document

    async def _orders(self, day: int) -> list[InvoiceDocument]:
        assert self.result is not None
        orders = self._orders_by_day.get(day, [])
        outcomes = {c.order_id: c for c in await self.system.check_orders(orders)}
        invoices = []
        for order in orders:
            check = outcomes[order.order_id]
            record = OrderRecord(order=order, decision=check.decision, check=check)
            self.result.orders.append(record)
            if check.decision in ("approved", "approved_with_conditions"):
                buyer = self.book[order.buyer_id]
                stopped_paying = buyer.stops_paying_day is not None and day >= buyer.stops_paying_day
                amount = policies.invoiced_amount(order.amount, check.conditions, can_prepay=not stopped_paying)
                if amount is None:
                    record.outcome, record.decided_day = "walked_away", day
                else:
                    invoices.append(self._invoice(record, amount, day))
            elif check.decision == "referred" and check.check_id:
                self._referrals.append(_Referral(record=record, check_id=check.check_id, decide_on=day + policies.REFERRAL_DELAY_DAYS))
            else:
                record.outcome, record.decided_day = "rejected", day
        return invoices

    def _max_days_past_due(self, buyer_id: str, day: int) -> int:
        return max((day - i.document.due_day for i in self._open_by_buyer[buyer_id] if i.open_amount > 0), default=0)

    def _usual_days_late(self, buyer_id: str, day: int) -> float:
        """How late the buyer usually pays: the mean days late of its invoices settled by ``day``
        (the credit manager reads it off the ledger; early payments count as on time)."""
        lateness = [
            max(max(d for d, _ in i.schedule) - i.document.due_day, 0)
            for i in self._all_by_buyer.get(buyer_id, ())
            if i.schedule and i.open_amount == 0 and max(d for d, _ in i.schedule) < day
        ]
        return sum(lateness) / len(lateness) if lateness else 0.0

    async def _referrals_due(self, day: int) -> list[InvoiceDocument]:
        due = [r for r in self._referrals if r.decide_on <= day]
        if not due:
            return []
        self._referrals = [r for r in self._referrals if r.decide_on > day]
        available = await self.system.available_credit(sorted({r.record.order.buyer_id for r in due}))
        rulings = []
        for referral in due:
            order = referral.record.order
            ruling = policies.rule_on_referral(
                amount=order.amount,
                insolvent=order.buyer_id in self._insolvent,
                max_days_past_due=self._max_days_past_due(order.buyer_id, day),
                usual_days_late=self._usual_days_late(order.buyer_id, day),
                available=available.get(order.buyer_id),
            )
            left = available.get(order.buyer_id)
            if ruling.approve and left is not None:
                # The approval uses up credit for the next referral of the same buyer today.
                available[order.buyer_id] = left - order.amount
            rulings.append((referral, ruling))
        accepted = await self.system.decide_referrals(
            [
                ReferralDecision(check_id=referral.check_id, order_id=referral.record.order.order_id, approve=ruling.approve, comment=ruling.comment)
                for referral, ruling in rulings
            ]
        )
        invoices = []
        for referral, ruling in rulings:
            record = referral.record
            if ruling.approve and referral.check_id in accepted:
                invoices.append(self._invoice(record, record.order.amount, day))
            else:
                record.outcome, record.decided_day = "rejected", day
        return invoices

    async def _signals(self, day: int) -> None:
        assert self.result is not None
        signals = await self.system.signals(day)
        for alert in signals.alerts:
            self.result.warnings_by_kind[alert.kind] += 1
            self.result.first_warning.setdefault(alert.buyer_id, alert.day)
            if alert.kind in policies.INSURER_DEADLINE_ALERTS:
                self.result.insurer_reports.setdefault(alert.buyer_id, alert.day)
        for prompt in signals.insurer_prompts:
            self.result.insurer_reports.setdefault(prompt.buyer_id, prompt.day)
        promises: list[Promise] = []
        for case in signals.open_cases:
            self.result.cases_seen.add(case.case_id)
            self.result.case_buyers.add(case.buyer_id)
            if case.case_id in self._promised_cases:
                continue
            self._promised_cases.add(case.case_id)
            promise = self._promise(case, day)
            if promise is not None:
                promises.append(promise)
        self.result.promises.extend(promises)
        await self.system.record_promises(promises)

    def _promise(self, case: CollectionCase, day: int) -> Promise | None:
        """The buyer promises its overdue invoices (the case's own, when it names one) for the day it will pay."""
        overdue = [
            i for i in self._open_by_buyer[case.buyer_id] if i.open_amount > 0 and i.document.due_day < day and case.invoice_id in (None, i.document.invoice_id)
        ]
        if not overdue:
            return None
        future_days = [pay_day for i in overdue for pay_day, _ in i.schedule if pay_day > day]
        promised = min(future_days) if future_days else day + policies.PROMISE_HORIZON_DAYS
        return Promise(case_id=case.case_id, buyer_id=case.buyer_id, promised_day=promised, amount=sum((i.open_amount for i in overdue), ZERO))
