"""Invoice runs and bank statements: many ledger documents in one request and one transaction."""

from __future__ import annotations

from decimal import Decimal

from creditguard_limits.accounts.repository import AccountsRepository
from creditguard_limits.ledger import service as ledger_service
from creditguard_limits.ledger.repository import LedgerRepository
from creditguard_limits.ledger.schemas import PaymentIn
from services.limits.tests.helpers import check, emitted, exposure, money, new_buyer, post_invoice, set_limit


def _invoice(buyer: str, invoice_id: str, amount: str, *, order_id: str | None = None, due_on: str = "2027-01-31") -> dict:
    body = {"invoice_id": invoice_id, "buyer_id": buyer, "amount": amount, "currency": "EUR", "issued_on": "2026-11-01", "due_on": due_on}
    return body | ({"order_id": order_id} if order_id else {})


def _payment(buyer: str, payment_id: str, invoice_id: str, amount: str, *, paid_on: str = "2026-12-01") -> dict:
    return {"payment_id": payment_id, "buyer_id": buyer, "invoice_id": invoice_id, "amount": amount, "currency": "EUR", "paid_on": paid_on}


async def _open_amounts(limits, buyer: str) -> dict[str, Decimal]:
    response = await limits.client.get(f"/v1/buyers/{buyer}/invoices", headers=limits.auth("sales"))
    assert response.status_code == 200, response.text
    return {i["invoice_id"]: money(i["open_amount"]) for i in response.json()}


async def test_an_invoice_run_records_every_invoice_and_publishes_each_buyers_exposure_once(limits):
    first, second = new_buyer(), new_buyer()
    for buyer in (first, second):
        await set_limit(limits, buyer, "100000.00")
    assert (await check(limits, first, f"{first}-SO1", "8000.00"))["decision"] == "approved"
    published_before = {b: len(await emitted(limits, "exposure-changed", b)) for b in (first, second)}
    run = {
        "invoices": [
            _invoice(first, f"{first}-INV1", "8000.00", order_id=f"{first}-SO1"),
            _invoice(second, f"{second}-INV1", "2500.00"),
            _invoice(first, f"{first}-INV2", "1000.00"),
        ]
    }

    response = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json=run)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["unchanged"]) == (3, 0)
    assert [(item["created"], item["invoice"]["invoice_id"]) for item in body["items"]] == [
        (True, f"{first}-INV1"),
        (True, f"{second}-INV1"),
        (True, f"{first}-INV2"),
    ]
    # The order's reservation became its invoice: not counted twice.
    current = await exposure(limits, first)
    assert money(current["open_orders"]) == 0 and money(current["exposure"]) == Decimal("9000.00")
    assert money((await exposure(limits, second))["exposure"]) == Decimal("2500.00")
    for buyer, total in ((first, "9000.00"), (second, "2500.00")):
        published = (await emitted(limits, "exposure-changed", buyer))[published_before[buyer] :]
        assert [money(e["exposure"]) for e in published] == [Decimal(total)]
        assert money(published[0]["open_orders"]) == 0
    assert sorted(e["invoice_id"] for e in await emitted(limits, "invoice-posted", first)) == [f"{first}-INV1", f"{first}-INV2"]

    # The ERP re-sends the run (it never saw the answer): nothing is recorded or published twice.
    again = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json=run)
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    assert len(await emitted(limits, "invoice-posted", first)) == 2
    assert len(await emitted(limits, "exposure-changed", second)) == published_before[second] + 1


async def test_a_bank_statement_settles_invoices_as_the_same_payments_posted_one_by_one(limits):
    """The batch and the single route are one rule: same documents, same ledger, same events."""
    one_by_one, batched = new_buyer(), new_buyer()
    for buyer in (one_by_one, batched):
        await set_limit(limits, buyer, "100000.00")
        await post_invoice(limits, buyer, f"{buyer}-INV1", "3000.00", due_on="2026-12-31")
        await post_invoice(limits, buyer, f"{buyer}-INV2", "1000.00", due_on="2026-11-15")

    def statement(buyer: str) -> list[dict]:
        return [
            _payment(buyer, f"{buyer}-P1", f"{buyer}-INV1", "1000.00"),
            _payment(buyer, f"{buyer}-P2", f"{buyer}-INV2", "1000.00"),
            _payment(buyer, f"{buyer}-P3", f"{buyer}-INV1", "2000.00", paid_on="2026-12-02"),
        ]

    for payment in statement(one_by_one):
        assert (await limits.client.post("/v1/payments", headers=limits.auth("erp"), json=payment)).status_code == 201
    response = await limits.client.post("/v1/payments/batch", headers=limits.auth("erp"), json={"payments": statement(batched)})

    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["unchanged"]) == (3, 0)
    assert await _open_amounts(limits, batched) == {f"{batched}-INV1": Decimal("0.00"), f"{batched}-INV2": Decimal("0.00")}
    assert await _open_amounts(limits, one_by_one) == {f"{one_by_one}-INV1": Decimal("0.00"), f"{one_by_one}-INV2": Decimal("0.00")}
    # The invoices a batch settles are written back with the day each was settled.
    async with limits.runtime.uow_factory() as uow:
        for invoice in ("INV1", "INV2"):
            single, batch = [await LedgerRepository(uow.session).get_invoice(f"{b}-{invoice}") for b in (one_by_one, batched)]
            assert single is not None and batch is not None
            assert (batch.open_amount, batch.settled_on) == (single.open_amount, single.settled_on) != (Decimal("0.00"), None)
    single, batch = await exposure(limits, one_by_one), await exposure(limits, batched)
    assert (money(batch["exposure"]), money(batch["overdue"])) == (money(single["exposure"]), money(single["overdue"])) == (0, 0)
    # Settled invoices count in the payment record the same way (one paid late, one on time).
    async with limits.runtime.uow_factory() as uow:
        for buyer in (one_by_one, batched):
            account = await AccountsRepository(uow.session).get(buyer)
            assert (account.invoices_settled, account.invoices_paid_on_time, account.days_late_total) == (2, 1, 16)
    assert [e["payment_id"] for e in await emitted(limits, "payment-received", batched)] == [f"{batched}-P1", f"{batched}-P2", f"{batched}-P3"]
    # Three payments, one exposure event for the batch (after the last), three for the single posts.
    assert len(await emitted(limits, "exposure-changed", one_by_one)) - len(await emitted(limits, "exposure-changed", batched)) == 2


async def test_a_batch_with_a_document_that_cannot_be_recorded_records_nothing(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00")
    await post_invoice(limits, buyer, f"{buyer}-INV0", "500.00")
    published_before = len(await emitted(limits, "exposure-changed", buyer))

    conflicting = {"invoices": [_invoice(buyer, f"{buyer}-INV1", "100.00"), _invoice(buyer, f"{buyer}-INV0", "999.00")]}
    response = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json=conflicting)
    assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert (problem["item"], problem["document_id"], problem["conflicting_fields"]) == (1, f"{buyer}-INV0", ["amount"])
    assert problem["detail"].startswith(f"Invoice {buyer}-INV0 (item 1 of the batch): ")
    assert (await limits.client.get(f"/v1/invoices/{buyer}-INV1", headers=limits.auth("sales"))).status_code == 404

    unknown_invoice = {"payments": [_payment(buyer, f"{buyer}-P1", f"{buyer}-INV0", "100.00"), _payment(buyer, f"{buyer}-P2", "NO-SUCH-INVOICE", "1.00")]}
    response = await limits.client.post("/v1/payments/batch", headers=limits.auth("erp"), json=unknown_invoice)
    assert response.status_code == 422, response.text
    assert (response.json()["item"], response.json()["field"]) == (1, "invoice_id")
    assert await _open_amounts(limits, buyer) == {f"{buyer}-INV0": Decimal("500.00")}
    assert len(await emitted(limits, "exposure-changed", buyer)) == published_before
    assert await emitted(limits, "payment-received", buyer) == []

    bad_date = {"invoices": [_invoice(buyer, f"{buyer}-INV2", "10.00"), _invoice(buyer, f"{buyer}-INV3", "10.00", due_on="2026-10-01")]}
    response = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json=bad_date)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json", response.text
    assert "invoices.1" in response.text
    for empty_or_too_long in ([], [_invoice(buyer, f"{buyer}-X{n}", "1.00") for n in range(501)]):
        response = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json={"invoices": empty_or_too_long})
        assert response.status_code == 422, response.text
    assert (await limits.client.post("/v1/payments/batch", headers=limits.auth("sales"), json=unknown_invoice)).status_code == 403
    assert await _open_amounts(limits, buyer) == {f"{buyer}-INV0": Decimal("500.00")}


async def test_batches_written_together_settle_as_documents_posted_one_by_one(limits):
    """An invoice run's new invoices are written together at its end: payments consumed before their
    invoice still settle them, an invoice repeated in the run is recorded once, and what the
    run wrote reads back as posted one by one."""
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00")
    async with limits.runtime.uow_factory() as uow:
        # As the Kafka handler records a payment of an invoice not posted yet.
        for payment in (_payment(buyer, f"{buyer}-P1", f"{buyer}-INV1", "600.00"), _payment(buyer, f"{buyer}-P2", f"{buyer}-INV2", "300.00")):
            await ledger_service.record_payment(uow, context=limits.app.state.limits, payment=PaymentIn(**payment), invoice_must_exist=False)
        await uow.commit()
    run = {
        "invoices": [
            _invoice(buyer, f"{buyer}-INV1", "1000.00"),
            _invoice(buyer, f"{buyer}-INV2", "300.00", due_on="2026-12-31"),
            _invoice(buyer, f"{buyer}-INV3", "250.00"),
            _invoice(buyer, f"{buyer}-INV1", "1000.00"),
        ]
    }

    response = await limits.client.post("/v1/invoices/batch", headers=limits.auth("erp"), json=run)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(item["created"], item["invoice"]["invoice_id"], money(item["invoice"]["open_amount"])) for item in body["items"]] == [
        (True, f"{buyer}-INV1", Decimal("400.00")),
        (True, f"{buyer}-INV2", Decimal("0.00")),
        (True, f"{buyer}-INV3", Decimal("250.00")),
        (False, f"{buyer}-INV1", Decimal("400.00")),
    ]
    assert await _open_amounts(limits, buyer) == {f"{buyer}-INV1": Decimal("400.00"), f"{buyer}-INV2": Decimal("0.00"), f"{buyer}-INV3": Decimal("250.00")}
    assert money((await exposure(limits, buyer))["exposure"]) == Decimal("650.00")
    async with limits.runtime.uow_factory() as uow:
        account = await AccountsRepository(uow.session).get(buyer)
        assert (account.invoices_settled, account.invoices_paid_on_time) == (1, 1)
    settled = (await limits.client.get(f"/v1/invoices/{buyer}-INV2", headers=limits.auth("sales"))).json()
    assert (settled["order_id"], money(settled["amount"]), settled["issued_on"], settled["due_on"]) == (None, Decimal("300.00"), "2026-11-01", "2026-12-31")
    assert sorted(e["invoice_id"] for e in await emitted(limits, "invoice-posted", buyer)) == [f"{buyer}-INV1", f"{buyer}-INV2", f"{buyer}-INV3"]

    # A bank statement's new payments are written together too: a payment repeated in it counts
    # once, an overpayment leaves unapplied cash, and what it wrote reads back.
    statement = [
        _payment(buyer, f"{buyer}-P3", f"{buyer}-INV1", "500.00"),
        _payment(buyer, f"{buyer}-P4", f"{buyer}-INV3", "250.00"),
        _payment(buyer, f"{buyer}-P3", f"{buyer}-INV1", "500.00"),
    ]
    response = await limits.client.post("/v1/payments/batch", headers=limits.auth("erp"), json={"payments": statement})
    assert response.status_code == 200, response.text
    assert [(item["created"], item["payment"]["payment_id"]) for item in response.json()["items"]] == [
        (True, f"{buyer}-P3"),
        (True, f"{buyer}-P4"),
        (False, f"{buyer}-P3"),
    ]
    assert set((await _open_amounts(limits, buyer)).values()) == {Decimal("0.00")}
    cash = (await limits.client.get(f"/v1/buyers/{buyer}/cash", headers=limits.auth("sales"))).json()["balances"]
    assert [(c["currency"], money(c["received"]), money(c["unapplied_cash"])) for c in cash] == [("EUR", Decimal("1650.00"), Decimal("100.00"))]
    assert money((await exposure(limits, buyer))["exposure"]) == 0
    async with limits.runtime.uow_factory() as uow:
        account = await AccountsRepository(uow.session).get(buyer)
        assert (account.invoices_settled, account.invoices_paid_on_time) == (3, 3)
    assert [e["payment_id"] for e in await emitted(limits, "payment-received", buyer)] == [f"{buyer}-P3", f"{buyer}-P4"]


async def test_a_started_service_runs_the_cycle_collector_at_its_threshold(limits):
    """GC_THRESHOLD (README): at Python's default young-generation threshold the collector ran
    hundreds of times per batch of 500 documents; a started service raises it."""
    import gc

    assert limits.runtime.settings.gc_threshold == 50_000
    assert gc.get_threshold()[0] == limits.runtime.settings.gc_threshold
