"""Overpayments become unapplied cash: kept on the buyer's account, deducted from its exposure,
visible in the payment and exposure events, and refundable by a credit manager."""

from __future__ import annotations

from decimal import Decimal

from services.limits.tests.helpers import emitted, exposure, money, new_buyer, post_invoice, set_limit


async def _pay(limits, buyer: str, payment_id: str, invoice_id: str, amount: str, *, expect: int = 201) -> dict:
    response = await limits.client.post(
        "/v1/payments",
        headers=limits.auth("erp"),
        json={"payment_id": payment_id, "buyer_id": buyer, "invoice_id": invoice_id, "amount": amount, "currency": "EUR", "paid_on": "2026-11-20"},
    )
    assert response.status_code == expect, response.text
    return response.json()


async def _refund(limits, buyer: str, refund_id: str, amount: str, *, role: str = "credit_manager", expect: int = 201):
    response = await limits.client.post(
        f"/v1/buyers/{buyer}/refunds",
        headers=limits.auth(role),
        json={"refund_id": refund_id, "amount": amount, "currency": "EUR", "refunded_on": "2026-12-01", "reason": "overpaid invoice"},
    )
    assert response.status_code == expect, response.text
    return response


async def test_an_overpayment_becomes_unapplied_cash_that_reduces_exposure_and_can_be_refunded(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "46000.00")
    await post_invoice(limits, buyer, f"{buyer}-I2", "10000.00")
    payment = await _pay(limits, buyer, f"{buyer}-P1", f"{buyer}-I1", "999999.00")
    assert (money(payment["applied_amount"]), money(payment["unapplied_amount"])) == (Decimal("46000.00"), Decimal("953999.00"))

    # The ledger balances: open receivables = invoices - credit notes - applied payments;
    # unapplied cash = payments - applied - refunds; exposure = max(open + orders - unapplied, 0).
    body = await exposure(limits, buyer)
    assert (money(body["open_invoices"]), money(body["unapplied_cash"]), money(body["exposure"])) == (
        Decimal("10000.00"),
        Decimal("953999.00"),
        Decimal("0.00"),
    )
    assert money(body["available"]) == Decimal("100000.00")
    invoices = (await limits.client.get(f"/v1/buyers/{buyer}/invoices", headers=limits.auth("sales"))).json()
    assert {i["invoice_id"]: money(i["open_amount"]) for i in invoices} == {f"{buyer}-I1": Decimal("0.00"), f"{buyer}-I2": Decimal("10000.00")}
    [received] = await emitted(limits, "payment-received", buyer)
    assert money(received["unapplied_amount"]) == Decimal("953999.00")
    assert money((await emitted(limits, "exposure-changed", buyer))[-1]["unapplied_cash"]) == Decimal("953999.00")

    # A second payment of the settled invoice is all unapplied cash; the same payment again changes nothing.
    assert money((await _pay(limits, buyer, f"{buyer}-P2", f"{buyer}-I1", "1.00"))["unapplied_amount"]) == Decimal("1.00")
    assert money((await _pay(limits, buyer, f"{buyer}-P1", f"{buyer}-I1", "999999.00", expect=200))["unapplied_amount"]) == Decimal("953999.00")
    conflict = await _pay(limits, buyer, f"{buyer}-P1", f"{buyer}-I1", "999998.00", expect=409)
    assert conflict["conflicting_fields"] == ["amount"]

    # Refunds: credit managers only, at most the unapplied cash, idempotent by refund id.
    await _refund(limits, buyer, f"{buyer}-R1", "100.00", role="erp", expect=403)
    too_much = await _refund(limits, buyer, f"{buyer}-R1", "954000.01", expect=422)
    assert too_much.headers["content-type"].startswith("application/problem+json") and "954000.00" in too_much.json()["detail"]
    refund = (await _refund(limits, buyer, f"{buyer}-R1", "950000.00")).json()
    assert refund["refunded_by"] and money(refund["amount"]) == Decimal("950000.00")
    assert (await _refund(limits, buyer, f"{buyer}-R1", "950000.00", expect=200)).json() == refund
    assert (await _refund(limits, buyer, f"{buyer}-R1", "940000.00", expect=409)).json()["conflicting_fields"] == ["amount"]
    await _refund(limits, buyer, f"{buyer}-R2", "4000.01", expect=422)
    [refunded] = await emitted(limits, "cash-refunded", buyer)
    assert (money(refunded["amount"]), money(refunded["unapplied_cash_after"])) == (Decimal("950000.00"), Decimal("4000.00"))

    body = await exposure(limits, buyer)
    assert (money(body["open_invoices"]), money(body["unapplied_cash"]), money(body["exposure"])) == (
        Decimal("10000.00"),
        Decimal("4000.00"),
        Decimal("6000.00"),
    )
    assert money((await emitted(limits, "exposure-changed", buyer))[-1]["exposure"]) == Decimal("6000.00")
    cash = (await limits.client.get(f"/v1/buyers/{buyer}/cash", headers=limits.auth("sales"))).json()
    assert cash["balances"] == [
        {
            "currency": "EUR",
            "received": "1000000.00",
            "applied": "46000.00",
            "held_for_unknown_invoices": "0.00",
            "refunded": "950000.00",
            "refundable": "4000.00",
            "unapplied_cash": "4000.00",
        }
    ]
    assert [r["refund_id"] for r in cash["refunds"]] == [f"{buyer}-R1"]


async def _apply(limits, buyer: str, application_id: str, invoice_id: str, amount: str, *, expect: int = 201) -> dict:
    response = await limits.client.post(
        f"/v1/buyers/{buyer}/cash-applications",
        headers=limits.auth("credit_manager"),
        json={"application_id": application_id, "invoice_id": invoice_id, "amount": amount, "currency": "EUR", "applied_on": "2026-12-01"},
    )
    assert response.status_code == expect, response.text
    return response.json()


async def test_unapplied_cash_applied_to_a_later_invoice_settles_it_everywhere(limits):
    """The application is published as a payment of the invoice (no new money), so scoring's and
    alerts' copies of the invoice settle as limits' does."""
    buyer = new_buyer()
    await set_limit(limits, buyer, "100000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "1000.00")
    await _pay(limits, buyer, f"{buyer}-P1", f"{buyer}-I1", "1600.00")
    await post_invoice(limits, buyer, f"{buyer}-I2", "900.00")
    assert money((await exposure(limits, buyer))["exposure"]) == Decimal("300.00")

    assert (await _apply(limits, buyer, f"{buyer}-A1", f"{buyer}-I2", "600.01", expect=422))["field"] == "amount"  # more than the cash
    await _apply(limits, buyer, f"{buyer}-A1", f"{buyer}-IX", "100.00", expect=422)  # unknown invoice
    await _apply(limits, buyer, f"{buyer}-P1", f"{buyer}-I2", "100.00", expect=409)  # a payment's id
    applied = await _apply(limits, buyer, f"{buyer}-A1", f"{buyer}-I2", "600.00")
    assert money(applied["invoice_open_amount"]) == Decimal("300.00")
    assert (await _apply(limits, buyer, f"{buyer}-A1", f"{buyer}-I2", "600.00", expect=200)) == applied
    assert (await _apply(limits, buyer, f"{buyer}-A1", f"{buyer}-I2", "500.00", expect=409))["conflicting_fields"] == ["amount"]
    await _pay(limits, buyer, f"{buyer}-A1", f"{buyer}-I2", "600.00", expect=409)  # a payment may not reuse it either

    body = await exposure(limits, buyer)
    assert (money(body["open_invoices"]), money(body["unapplied_cash"]), money(body["exposure"])) == (Decimal("300.00"), Decimal("0.00"), Decimal("300.00"))
    published = await emitted(limits, "payment-received", buyer)
    assert [(p["payment_id"], p["amount"], p["unapplied_amount"], p["from_unapplied_cash"]) for p in published] == [
        (f"{buyer}-P1", "1600.00", "600.00", False),
        (f"{buyer}-A1", "600.00", "0.00", True),
    ]
    cash = (await limits.client.get(f"/v1/buyers/{buyer}/cash", headers=limits.auth("sales"))).json()["balances"]
    assert [(c["received"], c["applied"], c["refundable"]) for c in cash] == [("1600.00", "1600.00", "0.00")]
    await _refund(limits, buyer, f"{buyer}-R1", "0.01", expect=422)
