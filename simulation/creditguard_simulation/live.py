"""creditguard as the simulated company's credit system: every order, invoice, payment, decision,
promise and insolvency goes through the services' REST APIs (and on to the others over Kafka),
and the services' clocks follow the simulated calendar."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import aiohttp

from creditguard_simulation import policies
from creditguard_simulation.book import CURRENCY, BookConfig, Buyer
from creditguard_simulation.calendar import SimulatedCalendar
from creditguard_simulation.orders import Order
from creditguard_simulation.settling import Backlog, EventFlow, wait_until_settled
from creditguard_simulation.stack import Endpoints
from creditguard_simulation.system import (
    CheckOutcome,
    CollectionCase,
    DaySignals,
    History,
    InvoiceDocument,
    PaymentDocument,
    Promise,
    ReferralDecision,
    Signal,
)
from creditguard_simulation.webhook_receiver import WebhookReceiver

INSURANCE_POLICY_ID = "POL-SIM"
STATEMENT_PERIOD_END = date(2025, 12, 31)
PAGE = 500
INSURER_NOTIFICATION_LEVEL = "insurer_notification"
TRANSPORT_ATTEMPTS = 3
# A credit check is idempotent by order id (the same order sent again gets the stored decision), as
# an ERP's retry after a dropped connection relies on.
IDEMPOTENT_POSTS = frozenset({"POST /v1/invoices/batch", "POST /v1/payments/batch", "POST /v1/buyers/{id}/adverse-events", "POST /v1/credit-checks"})
# Documents per ledger batch request (limits accepts up to 500).
BATCH = 500
# Documents per import request (limits accepts up to 5,000 in one transaction).
IMPORT_BATCH = 5000
# How long a new buyer's first assessment may take to reach limits before its first order is checked.
ONBOARD_WAIT_SECONDS = 30.0


def _chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True)
class ApiResponse:
    """An answer, read in full while its connection was held."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiProblems(Counter[tuple[str, str]]):
    """Calls that did not answer as the API promised, by route and status: the report lists them."""

    def lines(self) -> list[str]:
        return [f"{route}: {count} answered {status}" for (route, status), count in sorted(self.items())]


class LiveSystem:
    name = "creditguard"

    def __init__(self, *, endpoints: Endpoints, config: BookConfig, receiver: WebhookReceiver | None, concurrency: int = 16) -> None:
        self.endpoints = endpoints
        self.config = config
        self.calendar = SimulatedCalendar(start=config.start, days=config.days)
        self.receiver = receiver
        self.problems = ApiProblems()
        self.seconds_by_route: defaultdict[str, float] = defaultdict(float)
        self.calls_by_route: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.checks: list[CheckOutcome] = []
        # Each buyer's probability of default when it was first graded.
        self.pds: dict[str, float] = {}
        self._limit = asyncio.Semaphore(concurrency)
        self._connections = concurrency * 3
        self._http: aiohttp.ClientSession | None = None
        self._auth = {role: {"Authorization": f"Bearer {key}"} for role, key in endpoints.keys.items()}
        self.assess_wait_seconds = 120.0
        self._event_flow = EventFlow(bootstrap_servers=endpoints.bootstrap_servers) if endpoints.bootstrap_servers else None
        # Consumer group -> topics, as the services report them.
        self._groups: dict[str, list[str]] = {}
        # Waits for the day's events (see settling.py), and those that ran out of time.
        self.settle_waits = 0
        self.unsettled_waits = 0

    def _session(self) -> aiohttp.ClientSession:
        # aiohttp, not httpx: the simulator sends hundreds of thousands of requests, and httpx spent
        # about 2 ms of CPU on each (aiohttp 0.2 ms), on the two cores the services need.
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them: reusing
        # one the server is closing fails the request (seen on non-idempotent POSTs).
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=60),
                connector=aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=4.0),
            )
        return self._http

    async def close(self) -> None:
        if self._event_flow is not None:
            await self._event_flow.stop()
        if self._http is not None:
            await self._http.close()

    async def _backlog(self) -> Backlog:
        """The consumer groups' lag first (asked of the broker); the outboxes (asked of the services,
        whose CPU the day's events need) only when no group lags."""
        assert self._event_flow is not None
        if self._groups:
            lag = await self._event_flow.lag(self._groups)
            if any(lag.values()):
                return Backlog(outbox_pending=0, consumer_lag=lag)
        services = (self.endpoints.scoring, self.endpoints.limits, self.endpoints.alerts)
        details = await self._each(services, lambda base: self._call("GET", f"{base}/health/details", role="admin", route="GET /health/details"))
        if not self._groups:
            # The first reading learns the consumer groups; the next one asks for their lag.
            for answer in details:
                for group, by_topic in (answer.json() if answer is not None else {}).get("consumer_lag", {}).items():
                    self._groups.setdefault(group, sorted(by_topic))
            return Backlog(outbox_pending=1, consumer_lag={})
        # A service that did not answer has an unknown backlog: counted as one still to go.
        pending = sum(answer.json().get("outbox", {}).get("pending", 1) if answer is not None else 1 for answer in details)
        return Backlog(outbox_pending=pending, consumer_lag=lag)

    async def settle(self) -> None:
        """Wait until every event published so far has reached every service (see settling.py);
        without the broker's address (a system started elsewhere, none given) there is nothing to
        wait on."""
        if self._event_flow is None:
            return
        self.settle_waits += 1
        if not await wait_until_settled(self._backlog):
            self.unsettled_waits += 1

    @property
    def watched_groups(self) -> int:
        return len(self._groups)

    # -- plumbing ---------------------------------------------------------------------------
    async def _call(self, method: str, url: str, *, role: str, route: str, ok: Iterable[int] = (200, 201), **kwargs: Any) -> ApiResponse | None:
        async with self._limit:
            started = time.perf_counter()
            try:
                response = await self._request(method, url, role=role, route=route, **kwargs)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.problems[(route, type(exc).__name__)] += 1
                return None
            finally:
                self.seconds_by_route[route] += time.perf_counter() - started
                self.calls_by_route[route] += 1
        if response.status_code not in tuple(ok):
            self.problems[(route, str(response.status_code))] += 1
            return None
        return response

    async def _request(self, method: str, url: str, *, role: str, route: str, **kwargs: Any) -> ApiResponse:
        """A dropped connection is retried where a re-send is harmless: reads, PUTs, and the ledger's
        documents (idempotent by their ids); anything else is reported as it happened."""
        attempts = TRANSPORT_ATTEMPTS if method in ("GET", "PUT") or route in IDEMPOTENT_POSTS else 1
        for attempt in range(1, attempts):
            try:
                return await self._send(method, url, role=role, **kwargs)
            except aiohttp.ClientConnectionError:
                self.retries[route] += 1
                await asyncio.sleep(0.5 * attempt)
        return await self._send(method, url, role=role, **kwargs)

    async def _send(self, method: str, url: str, *, role: str, **kwargs: Any) -> ApiResponse:
        async with self._session().request(method, url, headers=self._auth[role], **kwargs) as response:
            return ApiResponse(status_code=response.status, body=await response.read())

    async def _each(self, items: Iterable, call: Callable[[Any], Awaitable[Any]]) -> list:
        return await asyncio.gather(*(call(item) for item in items))

    def _date(self, day: int) -> str:
        return self.calendar.date_of(day).isoformat()

    # -- set-up -----------------------------------------------------------------------------
    async def set_up(self, book: list[Buyer], history: History) -> dict[str, int | None]:
        await self.start_day(0)
        e = self.endpoints
        await self._call(
            "PUT",
            f"{e.limits}/v1/insurance/policies/{INSURANCE_POLICY_ID}",
            role="credit_manager",
            route="PUT /v1/insurance/policies/{id}",
            json={
                "insurer": "Simulated Credit Insurance",
                "indemnity_percentage": str(policies.INDEMNITY_SHARE * 100),
                "max_credit_period_days": 120,
                "report_overdue_within_days": policies.REPORT_OVERDUE_WITHIN_DAYS,
                "file_claim_within_days": policies.FILE_CLAIM_WITHIN_DAYS,
                "uninsured_action": "none",
            },
        )
        if self.receiver:
            await self._call(
                "POST",
                f"{e.alerts}/v1/webhooks/subscriptions",
                role="credit_manager",
                route="POST /v1/webhooks/subscriptions",
                json={
                    "url": self.receiver.url,
                    "event_types": ["alert.raised", "collection.case_opened", "collection.level_changed"],
                    "description": "simulated sales system",
                },
            )
        await self._each(book, self._register)
        await self._import(history)
        grades = await self._wait_for_grades(book)
        await self._each([b for b in book if b.insured], lambda b: self._insure(b, 0))
        return grades

    async def onboard(self, buyers: list[Buyer], day: int) -> dict[str, int | None]:
        """A buyer won today: registered with its statements (scoring assesses it and tells limits),
        insured when the insurer grants cover; its first order comes a couple of days later."""
        await self._each(buyers, self._register)
        grades = await self._wait_for_grades(buyers, wait_seconds=ONBOARD_WAIT_SECONDS)
        await self._each([b for b in buyers if b.insured], lambda b: self._insure(b, day))
        return grades

    def _import_requests(self, history: History) -> list[dict]:
        """The history in requests of at most IMPORT_BATCH documents, each buyer's documents in one
        request (a payment travels with its invoice)."""
        invoices: dict[str, list[InvoiceDocument]] = {}
        payments: dict[str, list[PaymentDocument]] = {}
        for invoice in history.invoices:
            invoices.setdefault(invoice.buyer_id, []).append(invoice)
        for payment in history.payments:
            payments.setdefault(payment.buyer_id, []).append(payment)
        requests: list[dict] = []
        current: dict = {"accounts": [], "invoices": [], "payments": []}
        size = 0
        for buyer_id, since in sorted(history.relationships.items()):
            documents = len(invoices.get(buyer_id, ())) + len(payments.get(buyer_id, ())) + 1
            if size and size + documents > IMPORT_BATCH:
                requests.append(current)
                current, size = {"accounts": [], "invoices": [], "payments": []}, 0
            current["accounts"].append({"buyer_id": buyer_id, "relationship_since": since.isoformat(), "limit": None})
            current["invoices"] += [
                {
                    "invoice_id": i.invoice_id,
                    "buyer_id": i.buyer_id,
                    "order_id": i.order_id,
                    "amount": str(i.amount),
                    "currency": CURRENCY,
                    "issued_on": self._date(i.issued_day),
                    "due_on": self._date(i.due_day),
                }
                for i in invoices.get(buyer_id, ())
            ]
            current["payments"] += [
                {
                    "payment_id": p.payment_id,
                    "buyer_id": p.buyer_id,
                    "invoice_id": p.invoice_id,
                    "amount": str(p.amount),
                    "currency": CURRENCY,
                    "paid_on": self._date(p.day),
                }
                for p in payments.get(buyer_id, ())
            ]
            size += documents
        if size:
            requests.append(current)
        return requests

    async def _import(self, history: History) -> None:
        """The book's history through the import API, one request after another (each is one transaction)."""
        for request in self._import_requests(history):
            await self._call("POST", f"{self.endpoints.limits}/v1/imports", role="credit_manager", route="POST /v1/imports", json=request)

    async def _register(self, buyer: Buyer) -> None:
        e = self.endpoints
        await self._call(
            "PUT",
            f"{e.scoring}/v1/buyers/{buyer.buyer_id}",
            role="credit_manager",
            route="PUT /v1/buyers/{id}",
            json={
                "name": buyer.name,
                "country": buyer.country,
                "industry": buyer.industry,
                "legal_form": buyer.legal_form,
                "founded_on": buyer.founded_on.isoformat(),
                "account_owner": buyer.account_owner,
                "registration_number": buyer.company.company_id,
            },
        )
        statement = {name: str(value) for name, value in buyer.statement.items() if value is not None}
        await self._call(
            "POST",
            f"{e.scoring}/v1/buyers/{buyer.buyer_id}/financial-statements",
            role="credit_manager",
            route="POST /v1/buyers/{id}/financial-statements",
            json={
                **statement,
                "fiscal_year": STATEMENT_PERIOD_END.year,
                "period_end": STATEMENT_PERIOD_END.isoformat(),
                "currency": CURRENCY,
                "source": f"Polish bankruptcy data, row {buyer.company.company_id}",
            },
        )

    async def _grade(self, buyer: Buyer) -> tuple[str, int | None]:
        """Scoring's grade once limits holds the same one. Registration assesses twice (profile,
        then statements) and limits may still hold the profile-only grade for a moment."""
        scored = await self._call(
            "GET", f"{self.endpoints.scoring}/v1/buyers/{buyer.buyer_id}/score", role="credit_manager", route="GET /v1/buyers/{id}/score", ok=(200, 404)
        )
        held = await self._call(
            "GET", f"{self.endpoints.limits}/v1/buyers/{buyer.buyer_id}/limit", role="credit_manager", route="GET /v1/buyers/{id}/limit", ok=(200, 404)
        )
        if scored is None or held is None or scored.status_code != 200 or held.status_code != 200:
            return buyer.buyer_id, None
        grade = scored.json().get("grade")
        if grade is not None and held.json().get("grade") == grade:
            self.pds[buyer.buyer_id] = float(scored.json()["pd"])
            return buyer.buyer_id, grade
        return buyer.buyer_id, None

    async def _wait_for_grades(self, book: list[Buyer], *, wait_seconds: float | None = None) -> dict[str, int | None]:
        """The assessments reach limits over Kafka; the book starts trading once limits has them."""
        deadline = asyncio.get_running_loop().time() + (self.assess_wait_seconds if wait_seconds is None else wait_seconds)
        grades: dict[str, int | None] = {}
        while True:
            pending = [b for b in book if grades.get(b.buyer_id) is None]
            grades.update(dict(await self._each(pending, self._grade)))
            if all(g is not None for g in grades.values()) or asyncio.get_running_loop().time() > deadline:
                return grades
            await asyncio.sleep(0.2)

    async def _insure(self, buyer: Buyer, day: int) -> None:
        await self._call(
            "PUT",
            f"{self.endpoints.limits}/v1/buyers/{buyer.buyer_id}/insurance-cover",
            role="credit_manager",
            route="PUT /v1/buyers/{id}/insurance-cover",
            json={
                "policy_id": INSURANCE_POLICY_ID,
                "currency": CURRENCY,
                "requested_amount": str(buyer.insurance_cover),
                "granted_amount": str(buyer.insurance_cover),
                "valid_from": self._date(day),
                "valid_until": self._date(self.config.days + 365),
            },
        )

    # -- each day ---------------------------------------------------------------------------
    async def start_day(self, day: int) -> None:
        moment = self.calendar.moment(day).isoformat()
        await self._each(
            (self.endpoints.scoring, self.endpoints.limits, self.endpoints.alerts),
            lambda base: self._call("PUT", f"{base}/internal/clock", role="admin", route="PUT /internal/clock", json={"now": moment}),
        )

    async def record_defaults(self, buyers: list[Buyer], day: int) -> None:
        await self._each(
            buyers,
            lambda b: self._call(
                "POST",
                f"{self.endpoints.scoring}/v1/buyers/{b.buyer_id}/adverse-events",
                role="credit_manager",
                route="POST /v1/buyers/{id}/adverse-events",
                json={
                    "event_id": f"INSOLVENCY-{b.buyer_id}",
                    "kind": "insolvency_filing",
                    "occurred_on": self._date(day),
                    "source": "insolvency register (simulated)",
                },
            ),
        )

    async def post_payments(self, payments: list[PaymentDocument]) -> None:
        """The day's bank statement, as the ERP imports it: one request per 500 payments."""
        await self._each(
            _chunks(payments, BATCH),
            lambda chunk: self._call(
                "POST",
                f"{self.endpoints.limits}/v1/payments/batch",
                role="erp",
                route="POST /v1/payments/batch",
                json={
                    "payments": [
                        {
                            "payment_id": p.payment_id,
                            "buyer_id": p.buyer_id,
                            "invoice_id": p.invoice_id,
                            "amount": str(p.amount),
                            "currency": CURRENCY,
                            "paid_on": self._date(p.day),
                        }
                        for p in chunk
                    ]
                },
            ),
        )

    async def _check(self, order: Order) -> CheckOutcome:
        response = await self._call(
            "POST",
            f"{self.endpoints.limits}/v1/credit-checks",
            role="erp",
            route="POST /v1/credit-checks",
            json={
                "buyer_id": order.buyer_id,
                "order_id": order.order_id,
                "amount": str(order.amount),
                "currency": CURRENCY,
                "payment_terms_days": order.terms_days,
            },
        )
        if response is None:
            # No answer is no credit: the ERP does not ship.
            return CheckOutcome(order_id=order.order_id, decision="rejected", reasons=("no answer from the credit check",))
        body = response.json()
        conditions = tuple(body.get("conditions") or ())
        terms = min((c["max_terms_days"] for c in conditions if c.get("max_terms_days")), default=None)
        outcome = CheckOutcome(
            order_id=order.order_id,
            decision=body["decision"],
            check_id=body.get("id"),
            conditions=conditions,
            terms_days=terms,
            limit_amount=Decimal(str(body["limit"])) if body.get("limit") is not None else None,
            exposure_after=Decimal(str(body["exposure_after"])),
            reasons=tuple(r.get("code", "") for r in body.get("reasons") or ()),
        )
        self.checks.append(outcome)
        return outcome

    async def check_orders(self, orders: list[Order]) -> list[CheckOutcome]:
        return await self._each(orders, self._check)

    async def _available(self, buyer_id: str) -> tuple[str, Decimal | None]:
        response = await self._call(
            "GET", f"{self.endpoints.limits}/v1/buyers/{buyer_id}/exposure", role="credit_manager", route="GET /v1/buyers/{id}/exposure"
        )
        available = response.json().get("available") if response is not None else None
        # Without an answer the credit manager has nothing to approve against.
        return buyer_id, Decimal(str(available)) if available is not None else Decimal(0)

    async def available_credit(self, buyer_ids: list[str]) -> dict[str, Decimal | None]:
        return dict(await self._each(buyer_ids, self._available))

    async def _decide(self, decision: ReferralDecision) -> str | None:
        response = await self._call(
            "POST",
            f"{self.endpoints.limits}/v1/credit-checks/{decision.check_id}/decision",
            role="credit_manager",
            route="POST /v1/credit-checks/{id}/decision",
            json={"decision": "approved" if decision.approve else "rejected", "comment": decision.comment},
        )
        return decision.check_id if response is not None and decision.approve and response.json().get("decision") == "approved" else None

    async def decide_referrals(self, decisions: list[ReferralDecision]) -> set[str]:
        return {check_id for check_id in await self._each(decisions, self._decide) if check_id}

    async def post_invoices(self, invoices: list[InvoiceDocument]) -> None:
        """The day's invoice run: one request per 500 invoices."""
        await self._each(
            _chunks(invoices, BATCH),
            lambda chunk: self._call(
                "POST",
                f"{self.endpoints.limits}/v1/invoices/batch",
                role="erp",
                route="POST /v1/invoices/batch",
                json={
                    "invoices": [
                        {
                            "invoice_id": i.invoice_id,
                            "buyer_id": i.buyer_id,
                            "order_id": i.order_id,
                            "amount": str(i.amount),
                            "currency": CURRENCY,
                            "issued_on": self._date(i.issued_day),
                            "due_on": self._date(i.due_day),
                        }
                        for i in chunk
                    ]
                },
            ),
        )

    async def run_daily_jobs(self, day: int) -> None:
        """The three services' daily passes at once, as their own schedulers would run them: none
        waits for another (what one tells the others travels over Kafka, in its own time). Then
        the webhooks they raised go out, so the credit managers see them before their day ends."""
        e = self.endpoints
        # The day's documents, checks and decisions have reached every service by nightfall.
        await self.settle()
        await asyncio.gather(
            self._call("POST", f"{e.limits}/v1/sweeps/daily", role="credit_manager", route="POST /v1/sweeps/daily"),
            self._call("POST", f"{e.scoring}/v1/assessments/due/run", role="credit_manager", route="POST /v1/assessments/due/run"),
            self._call("POST", f"{e.alerts}/v1/alerts/sweep", role="credit_manager", route="POST /v1/alerts/sweep"),
        )
        # What the passes published (payment-late, new grades, collection levels, holds) arrives
        # overnight, before the credit managers read their webhooks and the next day's orders.
        await self.settle()
        await self._call("POST", f"{e.alerts}/v1/webhooks/dispatch", role="credit_manager", route="POST /v1/webhooks/dispatch")

    def _day_of(self, moment: str | None) -> int:
        if not moment:
            return self.calendar.day
        return self.calendar.day_of(datetime.fromisoformat(moment.replace("Z", "+00:00")).date())

    def _signal(self, payload: dict, day: int) -> Signal | None:
        """An ``alert.raised`` webhook: {"type", "timestamp", "data": {"alert": {...}, "buyer": {...}}}."""
        alert = (payload.get("data") or {}).get("alert") if payload.get("type") == "alert.raised" else None
        if not alert or not alert.get("buyer_id"):
            return None
        return Signal(
            buyer_id=alert["buyer_id"], kind=alert.get("rule_type", ""), severity=alert.get("severity", ""), day=min(day, self._day_of(alert.get("raised_at")))
        )

    def _insurer_prompt(self, payload: dict, day: int) -> Signal | None:
        data = payload.get("data") or {}
        if payload.get("type") != "collection.level_changed" or data.get("level") != INSURER_NOTIFICATION_LEVEL:
            return None
        return Signal(buyer_id=data["case"]["buyer_id"], kind=INSURER_NOTIFICATION_LEVEL, severity="", day=day)

    async def _pages(self, url: str, *, route: str, params: dict[str, Any]) -> list[dict]:
        items: list[dict] = []
        while True:
            response = await self._call("GET", url, role="credit_manager", route=route, params={**params, "limit": PAGE, "offset": len(items)})
            if response is None:
                return items
            page = response.json()["items"]
            items += page
            if len(page) < PAGE:
                return items

    async def signals(self, day: int) -> DaySignals:
        self.calendar.day = day
        received = self.receiver.take_new() if self.receiver else []
        alerts = [s for p in received if (s := self._signal(p, day))]
        prompts = [s for p in received if (s := self._insurer_prompt(p, day))]
        cases = await self._pages(f"{self.endpoints.alerts}/v1/collections/cases", route="GET /v1/collections/cases", params={"status": "open"})
        return DaySignals(
            alerts=alerts,
            insurer_prompts=prompts,
            open_cases=[CollectionCase(case_id=c["id"], buyer_id=c["buyer_id"], invoice_id=c.get("invoice_id")) for c in cases],
        )

    async def record_promises(self, promises: list[Promise]) -> None:
        await self._each(
            promises,
            lambda p: self._call(
                "POST",
                f"{self.endpoints.alerts}/v1/collections/cases/{p.case_id}/actions",
                role="credit_manager",
                route="POST /v1/collections/cases/{id}/actions",
                json={
                    "kind": "promise_to_pay",
                    "promised_on": self._date(p.promised_day),
                    "promised_amount": str(p.amount),
                    "comment": "promise recorded by the simulated credit manager",
                },
            ),
        )

    async def webhooks_received(self) -> int:
        return len(self.receiver.received) if self.receiver else 0

    # -- after the run: what the invariants are checked against -----------------------------
    async def ledger_open_amounts(self, buyer_ids: Iterable[str]) -> dict[str, Decimal]:
        async def open_amount(buyer_id: str) -> tuple[str, Decimal]:
            response = await self._call(
                "GET", f"{self.endpoints.limits}/v1/buyers/{buyer_id}/invoices", role="credit_manager", route="GET /v1/buyers/{id}/invoices"
            )
            rows = response.json() if response is not None else []
            return buyer_id, sum((Decimal(str(r["open_amount"])) for r in rows), Decimal(0))

        return dict(await self._each(list(buyer_ids), open_amount))

    async def backtest(self) -> dict | None:
        """Scoring's own back-test of the PDs in force on the first day against the defaults since."""
        response = await self._call(
            "GET",
            f"{self.endpoints.scoring}/v1/calibration/backtest",
            role="credit_manager",
            route="GET /v1/calibration/backtest",
            params={"as_of": self._date(0), "horizon_days": max(self.calendar.day, 1)},
        )
        return response.json() if response is not None else None

    async def all_alerts(self) -> list[dict]:
        return await self._pages(f"{self.endpoints.alerts}/v1/alerts", route="GET /v1/alerts", params={})

    async def case_buyers(self) -> set[str]:
        cases = await self._pages(f"{self.endpoints.alerts}/v1/collections/cases", route="GET /v1/collections/cases", params={})
        return {c["buyer_id"] for c in cases}
