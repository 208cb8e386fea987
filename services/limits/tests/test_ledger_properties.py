"""A property of the ledger: random sequences of invoices, payments (overpayments among them),
credit notes, refunds, cash applications, re-sends, conflicting re-sends and replays, applied
over REST and over Kafka, always leave every buyer's ledger equal to a simple model computed
here, and never lose or double a document.

Consecutive Kafka documents are published together, so the consumer takes them in whatever
order its fetches give (invoices, payments and credit notes travel on different topics), while
REST calls that do not touch them go on meanwhile; a REST call whose answer depends on them (the
same document or its invoice, a refund, an application) waits until they are consumed. The model
is the documented rules:

- invoice i with amount A_i, credit notes C_i and payments P_i recorded against it:
  open_i = max(A_i - C_i - P_i, 0); the payments' surplus max(P_i - max(A_i - C_i, 0), 0) is
  unapplied cash (credit notes count first, whatever order the documents came in);
- a payment of an invoice not recorded yet (only Kafka accepts one) is held whole: unapplied
  cash that cannot be refunded until its invoice arrives;
- unapplied cash applied to an invoice settles it as a payment would (its X_i counts with P_i)
  and spends that much unapplied cash;
- unapplied cash = surpluses + held payments - applications - refunds;
  exposure = max(open + orders - unapplied, 0);
- REST refuses a payment or credit note of an unknown invoice (422), a refund or application
  above the free unapplied cash (or an application above what is open: 422) and a re-send with
  other content (409); Kafka dead-letters the latter, and an ERP's application the service would
  refuse.

Credit notes are generated within what their invoice's payments leave open, and cash is applied
only to invoices without credit notes, so no credit note is refused in any order (one above the
open amount is refused, tested elsewhere).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from creditguard_shared.events.catalogue import topic_for
from creditguard_shared.events.contracts import CreditNoteIssuedV1, EventPayload, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.events.envelope import EventEnvelope, new_event
from services.limits.tests.helpers import emitted, exposure, money, set_limit

# Both databases together stay well under a minute; derandomized, so every run tries the same.
EXAMPLES = 10
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
BUYERS = 2
CONSUMED = ("processed", "duplicate")
DEAD_LETTER_REASONS = ("unparseable", "rejected", "handler-failed")
CONTRACTS: dict[str, type[EventPayload]] = {"invoice": InvoicePostedV1, "payment": PaymentReceivedV1, "credit_note": CreditNoteIssuedV1}
TOPICS = {kind: topic_for(contract).name for kind, contract in CONTRACTS.items()}


@dataclass(frozen=True)
class Document:
    kind: str  # "invoice", "payment" or "credit_note"
    key: str  # the document's id within the example
    buyer: int
    invoice: str  # the invoice's key (an invoice's own)
    cents: int
    # An invoice whose credit notes and payments stay within it; unapplied cash goes to the others.
    credited: bool = False

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents) * CENT


@dataclass(frozen=True)
class Step:
    action: str  # "send", "replay", "conflict", "refund" or "apply"
    channel: str  # "rest" or "kafka"
    document: int = 0  # index into the documents (an application's: the invoice)
    buyer: int = 0  # refunds
    percent: int = 0  # refunds and applications: share of what they may take at most


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Document], list[Step]]:
    """Hypothesis starts from the simplest draws (first choices, small numbers), so those are
    already a buyer that overpaid one invoice and owes another, then refunds and applications."""
    documents: list[Document] = []
    invoices_of: dict[int, list[int]] = {}
    for buyer in range(BUYERS):
        invoices_of[buyer] = []
        for number in range(draw(st.integers(2, 3))):
            key = f"I{buyer}{number}"
            amount = draw(st.integers(100, 100_000))
            mode = draw(st.sampled_from(["overpaid", "open", "credited"] if number == 0 else ["open", "credited", "overpaid"]))
            invoices_of[buyer].append(len(documents))
            documents.append(Document("invoice", key, buyer, key, amount, credited=mode == "credited"))
            if mode == "overpaid":
                documents.append(Document("payment", f"P{key}0", buyer, key, amount + draw(st.integers(1, amount))))
            # More payments, perhaps beyond the invoice; or credit notes and payments that together stay within it.
            for part in range(draw(st.integers(0, 2))):
                kind = draw(st.sampled_from(["payment", "credit_note"])) if mode == "credited" else "payment"
                cents = draw(st.integers(1, amount // 3)) if mode == "credited" else draw(st.integers(1, 2 * amount))
                documents.append(Document(kind, f"{'P' if kind == 'payment' else 'C'}{key}{part + 1}", buyer, key, cents))
        if draw(st.booleans()):
            # A payment naming an invoice the ledger never sees.
            documents.append(Document("payment", f"PX{buyer}", buyer, f"IX{buyer}", draw(st.integers(1, 50_000))))
    order = draw(st.permutations(range(len(documents))))
    steps = [Step("send", draw(st.sampled_from(["rest", "kafka"])), document=index) for index in order]
    for _ in range(draw(st.integers(0, 5))):
        extra = Step(
            draw(st.sampled_from(["send", "replay", "conflict", "refund", "apply"])),
            draw(st.sampled_from(["rest", "kafka"])),
            document=draw(st.integers(0, len(documents) - 1)),
            buyer=draw(st.integers(0, BUYERS - 1)),
            percent=draw(st.integers(1, 130)),
        )
        steps.insert(draw(st.integers(0, len(steps))), extra)
    # Most documents are in by the end: where a credit balance is likeliest to be applied (to the
    # buyer's later invoices first) or refunded.
    for buyer in range(BUYERS):
        for action in draw(st.permutations(["apply", "refund"])):
            invoices = invoices_of[buyer]
            target = invoices[len(invoices) - 1 - draw(st.integers(0, len(invoices) - 1))]
            steps.append(Step(action, draw(st.sampled_from(["rest", "kafka"])), document=target, buyer=buyer, percent=draw(st.integers(1, 110))))
    return documents, steps


@dataclass(frozen=True)
class Totals:
    """What a buyer's ledger must show."""

    open: Decimal
    unapplied: Decimal
    held: Decimal
    refundable: Decimal
    received: Decimal
    exposure: Decimal
    open_by_invoice: dict[str, Decimal]


@dataclass
class Model:
    """The documents the ledger holds, by key, and what the buyers' ledgers must show."""

    documents: dict[str, Document] = field(default_factory=dict)
    refunded: defaultdict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # Unapplied cash applied, by invoice key.
    applied: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # What REST recorded (and so published), by kind and buyer.
    published: Counter[tuple[str, int]] = field(default_factory=Counter)

    def invoice_known(self, key: str) -> bool:
        return key in self.documents

    def totals(self, buyer: int) -> Totals:
        against: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"payment": ZERO, "credit_note": ZERO})
        held = ZERO
        for document in self.documents.values():
            if document.kind == "invoice":
                continue
            if document.invoice in self.documents:
                against[document.invoice][document.kind] += document.amount
            elif document.buyer == buyer and document.kind == "payment":
                held += document.amount
        open_, surplus, received = ZERO, ZERO, ZERO
        open_by_invoice: dict[str, Decimal] = {}
        for document in self.documents.values():
            if document.buyer == buyer and document.kind == "payment":
                received += document.amount
            if document.buyer != buyer or document.kind != "invoice":
                continue
            paid, credited = against[document.key]["payment"] + self.applied[document.key], against[document.key]["credit_note"]
            owed = max(document.amount - credited, ZERO)
            open_by_invoice[document.key] = max(owed - paid, ZERO)
            open_ += open_by_invoice[document.key]
            surplus += max(paid - owed, ZERO)
        applied = sum((amount for key, amount in self.applied.items() if self.documents[key].buyer == buyer), ZERO)
        refundable = surplus - applied - self.refunded[buyer]
        unapplied = refundable + held
        return Totals(
            open=open_,
            unapplied=unapplied,
            held=held,
            refundable=refundable,
            received=received,
            exposure=max(open_ - unapplied, ZERO),
            open_by_invoice=open_by_invoice,
        )


class Run:
    """One example against the running service: fresh ids, so examples never meet."""

    def __init__(self, limits, producer: AIOKafkaProducer, documents: list[Document]) -> None:
        self.limits, self.producer, self.documents = limits, producer, documents
        prefix = uuid.uuid4().hex[:8]
        self.buyers = [f"PB-{prefix}-{b}" for b in range(BUYERS)]
        self.ids = {key: f"{prefix}-{key}" for d in documents for key in (d.key, d.invoice)}
        self.model = Model()
        self.burst: list[tuple[str, bytes, bytes]] = []
        self.pending: set[Document] = set()
        self.sent: dict[str, EventEnvelope] = {}

    def payload(self, document: Document, *, cents: int | None = None) -> dict:
        amount = str(Decimal(cents if cents is not None else document.cents) * CENT)
        common = {"buyer_id": self.buyers[document.buyer], "amount": amount, "currency": "EUR"}
        if document.kind == "invoice":
            return {"invoice_id": self.ids[document.key], **common, "issued_on": "2026-11-01", "due_on": "2026-12-15"}
        if document.kind == "payment":
            return {"payment_id": self.ids[document.key], "invoice_id": self.ids[document.invoice], **common, "paid_on": "2026-11-20"}
        return {"credit_note_id": self.ids[document.key], "invoice_id": self.ids[document.invoice], **common, "issued_on": "2026-11-20"}

    async def step(self, step: Step) -> None:
        if step.action == "refund":
            await self.refund(step)
            return
        if step.action == "apply":
            await self.apply(step)
            return
        document = self.documents[step.document]
        recorded = document.key in self.model.documents
        if step.action == "replay":
            if document.key in self.sent:  # the same event (same id) again: a duplicate
                self.queue(document, self.sent[document.key])
            return
        if step.action == "conflict":
            if recorded:  # the same id with another amount: refused, nothing changes
                await self.send(document, step.channel, cents=document.cents + 1, expect=409)
            return
        if recorded:
            await self.send(document, step.channel, expect=200)
            return
        refused = step.channel == "rest" and document.kind != "invoice" and not self.model.invoice_known(document.invoice)
        await self.send(document, step.channel, expect=422 if refused else 201)
        if not refused:
            self.model.documents[document.key] = document
            if step.channel == "rest":
                self.model.published[(document.kind, document.buyer)] += 1

    async def send(self, document: Document, channel: str, *, cents: int | None = None, expect: int) -> None:
        body = self.payload(document, cents=cents)
        if channel == "kafka":
            envelope = new_event(source="/erp/test", payload=CONTRACTS[document.kind].model_validate(body), subject=body["buyer_id"])
            if cents is None:
                self.sent[document.key] = envelope
            self.queue(document, envelope)
            return
        if self.depends_on_burst(document):
            await self.drain()
        path = {"invoice": "/v1/invoices", "payment": "/v1/payments", "credit_note": "/v1/credit-notes"}[document.kind]
        response = await self.limits.client.post(path, json=body, headers=self.limits.auth("erp"))
        assert response.status_code == expect, (document, response.text)
        if expect == 409:
            assert response.json()["conflicting_fields"] == ["amount"]

    def queue(self, document: Document, envelope: EventEnvelope) -> None:
        self.burst.append((TOPICS[document.kind], self.buyers[document.buyer].encode(), envelope.to_bytes()))
        self.pending.add(document)

    def depends_on_burst(self, document: Document) -> bool:
        """Whether a REST call's answer depends on Kafka documents not consumed yet: the same
        document, or its invoice. Otherwise the two go on side by side, in either order."""
        return any(p.key in (document.key, document.invoice) for p in self.pending)

    def dead_letters(self) -> float:
        return sum(self.limits.metric("creditguard_events_dead_lettered_total", topic=t, reason=r) for t in TOPICS.values() for r in DEAD_LETTER_REASONS)

    def consumed(self) -> float:
        """Kafka documents the service is done with: taken, skipped as duplicates or dead-lettered."""
        return sum(self.limits.metric("creditguard_events_consumed_total", topic=t, outcome=o) for t in TOPICS.values() for o in CONSUMED) + self.dead_letters()

    async def drain(self) -> None:
        """Publish the queued Kafka documents together and wait until the service consumed them."""
        if not self.burst:
            return
        before = self.consumed()
        sending = [await self.producer.send(topic, value=value, key=key) for topic, key, value in self.burst]
        await asyncio.gather(*sending)
        expected, self.burst, self.pending = before + len(self.burst), [], set()
        deadline = asyncio.get_running_loop().time() + 30
        while self.consumed() < expected:
            assert asyncio.get_running_loop().time() < deadline, f"consumed {self.consumed() - before} of {expected - before} Kafka documents"
            await asyncio.sleep(0.02)

    async def drain_buyer(self, buyer: int) -> None:
        """A buyer's cash depends on its own documents only: other buyers' may stay in flight."""
        if any(p.buyer == buyer for p in self.pending):
            await self.drain()

    async def refund(self, step: Step) -> None:
        await self.drain_buyer(step.buyer)
        free = self.model.totals(step.buyer).refundable
        amount = max((free * step.percent / 100).quantize(CENT), CENT)
        response = await self.limits.client.post(
            f"/v1/buyers/{self.buyers[step.buyer]}/refunds",
            headers=self.limits.auth("credit_manager"),
            json={"refund_id": f"R-{uuid.uuid4().hex[:12]}", "amount": str(amount), "currency": "EUR", "refunded_on": "2026-12-01", "reason": "overpaid"},
        )
        expect = 201 if amount <= free else 422
        assert response.status_code == expect, (step, free, response.text)
        if expect == 201:
            self.model.refunded[step.buyer] += amount
            self.model.published[("refund", step.buyer)] += 1

    async def apply(self, step: Step) -> None:
        invoice = self.documents[step.document]
        if invoice.kind != "invoice" or invoice.credited:
            return
        # Over Kafka the application itself is checked by counting dead letters: nothing else in flight.
        await (self.drain() if step.channel == "kafka" else self.drain_buyer(invoice.buyer))
        known = self.model.invoice_known(invoice.key)
        totals = self.model.totals(invoice.buyer)
        most = min(totals.open_by_invoice.get(invoice.key, ZERO), totals.refundable)
        amount = max((most * step.percent / 100).quantize(CENT), CENT)
        expect = 201 if known and amount <= most else 422
        application_id = f"A-{uuid.uuid4().hex[:12]}"
        if step.channel == "kafka":
            # An ERP that applied the credit balance itself: applied alike, or dead-lettered.
            buyer = self.buyers[invoice.buyer]
            self.burst.append(
                (
                    TOPICS["payment"],
                    buyer.encode(),
                    new_event(
                        source="/erp/test",
                        subject=buyer,
                        payload=PaymentReceivedV1(
                            payment_id=application_id,
                            buyer_id=buyer,
                            invoice_id=self.ids[invoice.key],
                            amount=amount,
                            currency="EUR",
                            paid_on=date(2026, 12, 1),
                            from_unapplied_cash=True,
                        ),
                    ).to_bytes(),
                )
            )
            dead_letters = self.dead_letters()
            await self.drain()
            assert self.dead_letters() == dead_letters + (expect == 422), (step, most)
        else:
            response = await self.limits.client.post(
                f"/v1/buyers/{self.buyers[invoice.buyer]}/cash-applications",
                headers=self.limits.auth("erp"),
                json={
                    "application_id": application_id,
                    "invoice_id": self.ids[invoice.key],
                    "amount": str(amount),
                    "currency": "EUR",
                    "applied_on": "2026-12-01",
                },
            )
            assert response.status_code == expect, (step, most, response.text)
            if expect == 201:
                self.model.published[("payment", invoice.buyer)] += 1
        if expect == 201:
            self.model.applied[invoice.key] += amount

    async def verify(self) -> None:
        await self.drain()
        for number, buyer in enumerate(self.buyers):
            expected = self.model.totals(number)
            body = await exposure(self.limits, buyer)
            assert (money(body["open_invoices"]), money(body["unapplied_cash"]), money(body["exposure"])) == (
                expected.open,
                expected.unapplied,
                expected.exposure,
            ), (buyer, body, expected)
            invoices = (await self.limits.client.get(f"/v1/buyers/{buyer}/invoices", headers=self.limits.auth("sales"))).json()
            assert {i["invoice_id"]: money(i["open_amount"]) for i in invoices} == {self.ids[key]: amount for key, amount in expected.open_by_invoice.items()}
            cash = (await self.limits.client.get(f"/v1/buyers/{buyer}/cash", headers=self.limits.auth("sales"))).json()["balances"]
            if expected.received:
                [eur] = cash
                assert (money(eur["received"]), money(eur["held_for_unknown_invoices"]), money(eur["refundable"]), money(eur["refunded"])) == (
                    expected.received,
                    expected.held,
                    expected.refundable,
                    self.model.refunded[number],
                ), (buyer, eur, expected)
            else:
                assert cash == []
            # Each document REST recorded was published once; the last exposure-changed is the position.
            for kind, topic in (
                ("invoice", "invoice-posted"),
                ("payment", "payment-received"),
                ("credit_note", "credit-note-issued"),
                ("refund", "cash-refunded"),
            ):
                assert len(await emitted(self.limits, topic, buyer)) == self.model.published[(kind, number)], (buyer, topic)
            latest = (await emitted(self.limits, "exposure-changed", buyer))[-1]
            assert (money(latest["exposure"]), money(latest["unapplied_cash"])) == (expected.exposure, expected.unapplied)


# The service's event loop (the Kafka client's jitter) draws from ``random`` while Hypothesis
# generates in its thread; that is not the strategy's doing.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_every_buyers_ledger_matches_the_model_whatever_the_order_and_channel(limits_consuming, broker):
    limits = limits_consuming
    loop = asyncio.get_running_loop()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    await producer.start()

    async def run(documents: list[Document], steps: list[Step]) -> None:
        example = Run(limits, producer, documents)
        for buyer in example.buyers:
            await set_limit(limits, buyer, "1000000.00")
        for step in steps:
            await example.step(step)
        await example.verify()

    # Hypothesis drives the examples from a thread; each runs on the test's event loop, where the
    # service, its consumer and the producer live.
    # No shrinking: each example costs about a second, and a failure names its whole scenario.
    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate)
    )
    @given(scenarios())
    def ledger_matches_the_model(scenario: tuple[list[Document], list[Step]]) -> None:
        asyncio.run_coroutine_threadsafe(run(*scenario), loop).result(timeout=120)

    try:
        await asyncio.to_thread(ledger_matches_the_model)
    finally:
        await producer.stop()
