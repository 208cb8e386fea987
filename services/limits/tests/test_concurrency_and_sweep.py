"""Hundreds of simultaneous checks never approve more than the available credit; the daily sweep
publishes payment-late once per threshold crossed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from services.limits.tests.helpers import check, emitted, exposure, money, new_buyer, post_invoice, set_limit


async def test_simultaneous_orders_never_exceed_available_credit(limits):
    buyer = new_buyer()
    await set_limit(limits, buyer, "10000.00")
    await post_invoice(limits, buyer, f"{buyer}-I1", "2500.00")
    # 200 orders of 100 against 7500 of headroom: exactly 75 may pass, whatever the interleaving.
    decisions = await asyncio.gather(*(check(limits, buyer, f"{buyer}-O{i}", "100.00") for i in range(200)))
    approved = [d for d in decisions if d["decision"] == "approved"]
    assert len(approved) == 75, {d["decision"] for d in decisions}
    assert all(d["decision"] in ("referred", "rejected") for d in decisions if d["decision"] != "approved")
    body = await exposure(limits, buyer)
    assert money(body["open_orders"]) == Decimal("7500.00") and money(body["available"]) == Decimal("0.00")


async def test_daily_sweep_publishes_payment_late_once_per_threshold(limits, broker, eventually):
    buyer = new_buyer()
    await post_invoice(limits, buyer, f"{buyer}-I1", "900.00", issued_on="2026-10-01", due_on="2026-11-30")

    async def sweep() -> dict:
        response = await limits.client.post("/v1/sweeps/daily", headers=limits.auth("credit_manager"))
        assert response.status_code == 200, response.text
        return response.json()

    assert (await sweep())["payment_late_published"] == 1  # 1 day past due on 2026-12-01
    assert (await sweep())["payment_late_published"] == 0  # same day: nothing new
    limits.clock.advance(timedelta(days=13))
    assert (await sweep())["payment_late_published"] == 0  # 14 days
    limits.clock.advance(timedelta(days=1))
    assert (await sweep())["payment_late_published"] == 1  # 15 days
    limits.clock.advance(timedelta(days=80))
    assert (await sweep())["payment_late_published"] == 1  # 95 days: only the highest crossed (90)

    async def published():
        mine = await emitted(limits, "payment-late", buyer)
        assert [(e["bucket"], e["days_past_due"]) for e in mine] == [(1, 1), (15, 15), (90, 95)], mine
        assert all(Decimal(e["open_amount"]) == Decimal("900.00") for e in mine)

    await eventually(published)
    body = await exposure(limits, buyer)
    assert money(body["overdue_by_bucket"]["90+"]) == Decimal("900.00") and body["oldest_overdue_days"] == 95
