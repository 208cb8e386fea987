"""Money is exact on both databases: amounts binary floating point cannot hold (0.10 + 0.20, a
thousand invoices of 0.01, totals of the largest amount) come back exactly from the ledger, from
its sums (exposure, overdue buckets, portfolio) and from the copies scoring and alerts keep, and
SQLite stores them as whole cents."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, String, Table, case, func, insert, select, text

from creditguard_shared.clock import Clock
from creditguard_shared.database import Money, create_engine, new_metadata
from creditguard_shared.schema_types import MAX_AMOUNT

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SMALL, CENTS, LARGE = "B-SMALL", "B-CENTS", "B-LARGE"


async def test_the_money_type_sums_compares_and_rounds_alike_on_both_databases(databases):
    metadata = new_metadata()
    amounts = Table("amounts", metadata, Column("id", Integer, primary_key=True), Column("kind", String(8)), Column("amount", Money))
    engine = create_engine(await databases.create("money"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                insert(amounts),
                [
                    {"kind": "small", "amount": Decimal("0.10")},
                    {"kind": "small", "amount": Decimal("0.20")},
                    *({"kind": "large", "amount": MAX_AMOUNT} for _ in range(100)),
                    {"kind": "large", "amount": Decimal("0.03")},
                    # More than two decimals round half away from zero, as PostgreSQL's NUMERIC(18, 2) does.
                    {"kind": "round", "amount": Decimal("0.005")},
                    {"kind": "round", "amount": Decimal("-0.005")},
                    {"kind": "round", "amount": Decimal("2.344")},
                ],
            )
            total = func.sum(amounts.c.amount)
            sums = dict((await connection.execute(select(amounts.c.kind, total).group_by(amounts.c.kind))).all())
            assert sums == {"small": Decimal("0.30"), "large": Decimal("99999999999999.03"), "round": Decimal("2.34")}
            assert [str(sums[kind]) for kind in ("small", "large")] == ["0.30", "99999999999999.03"]
            rounded = (await connection.execute(select(amounts.c.amount).where(amounts.c.kind == "round").order_by(amounts.c.id))).scalars().all()
            assert rounded == [Decimal("0.01"), Decimal("-0.01"), Decimal("2.34")]
            # Comparisons with amounts and sums of CASE over money columns are in the same unit.
            small = select(total).where(amounts.c.kind == "small").scalar_subquery()
            assert (await connection.execute(select(small == Decimal("0.30")))).scalar() in (True, 1)
            assert (await connection.execute(select(func.count()).where(amounts.c.amount > Decimal("0.10"), amounts.c.amount < 1))).scalar() == 1
            large_only = func.sum(case((amounts.c.kind == "large", amounts.c.amount), else_=0))
            assert (await connection.execute(select(large_only))).scalar() == Decimal("99999999999999.03")
            if engine.dialect.name == "sqlite":
                kinds = (await connection.execute(text("SELECT DISTINCT typeof(amount) FROM amounts"))).scalars().all()
                assert kinds == ["integer"]
                # A fraction of a cent is not money this type wrote: refused, never rounded silently.
                await connection.execute(text("UPDATE amounts SET amount = 0.5 WHERE kind = 'small'"))
                with pytest.raises(ValueError, match="not whole cents"):
                    (await connection.execute(select(amounts.c.amount).where(amounts.c.kind == "small"))).all()
    finally:
        await engine.dispose()


def _invoice(buyer_id: str, invoice_id: str, amount: object, *, issued_on: str = "2026-09-01", due_on: str = "2026-10-01") -> dict:
    return {"invoice_id": invoice_id, "buyer_id": buyer_id, "amount": amount, "currency": "EUR", "issued_on": issued_on, "due_on": due_on}


async def _created(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def _money_kinds(service, table: str, column: str) -> set[str]:
    async with service.runtime.engine.connect() as connection:
        return set((await connection.execute(text(f"SELECT DISTINCT typeof({column}) FROM {table} WHERE {column} IS NOT NULL"))).scalars())


async def _post_documents(limits, *, largest: int) -> dict[str, Decimal]:
    """Invoices of 0.10, 0.20 and 0.30 (the 0.30 paid with 0.10 and 0.20, the 0.20 credited 0.10);
    ``largest`` invoices of the largest amount and one of three cents, all overdue. Answers the
    open total per buyer."""
    erp = limits.auth("erp")
    for number, amount in enumerate(("0.10", "0.20", 0.3), start=1):
        await _created(await limits.client.post("/v1/invoices", headers=erp, json=_invoice(SMALL, f"S-{number}", amount, due_on="2026-12-31")))
    for number, amount in enumerate(("0.10", "0.20"), start=1):
        await _created(
            await limits.client.post(
                "/v1/payments",
                headers=erp,
                json={"payment_id": f"S-P{number}", "buyer_id": SMALL, "invoice_id": "S-3", "amount": amount, "currency": "EUR", "paid_on": "2026-11-20"},
            )
        )
    await _created(
        await limits.client.post(
            "/v1/credit-notes",
            headers=erp,
            json={"credit_note_id": "S-C1", "buyer_id": SMALL, "invoice_id": "S-2", "amount": "0.10", "currency": "EUR", "issued_on": "2026-11-20"},
        )
    )
    await _created(
        await limits.client.post(
            "/v1/invoices/batch",
            headers=erp,
            json={"invoices": [_invoice(LARGE, f"L-{number}", str(MAX_AMOUNT)) for number in range(largest)] + [_invoice(LARGE, "L-CENTS", "0.03")]},
        ),
        200,
    )
    return {SMALL: Decimal("0.20"), LARGE: MAX_AMOUNT * largest + Decimal("0.03")}


async def test_the_ledger_and_its_sums_are_exact(start_service, databases, broker):
    limits = await start_service(
        "limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW), consumers_enabled=False
    )
    # A hundred times the largest amount: a total binary floating point holds only to about 0.02.
    expected = await _post_documents(limits, largest=100)
    # A thousand invoices of 0.01, in two runs.
    for run in range(2):
        await _created(
            await limits.client.post(
                "/v1/invoices/batch",
                headers=limits.auth("erp"),
                json={"invoices": [_invoice(CENTS, f"C-{run}-{number}", "0.01", due_on="2026-12-31") for number in range(500)]},
            ),
            200,
        )
    expected[CENTS] = Decimal("10.00")

    open_items = (await limits.client.get(f"/v1/buyers/{SMALL}/invoices", headers=limits.auth("sales"))).json()
    assert [(i["invoice_id"], i["amount"], i["open_amount"]) for i in open_items] == [("S-1", "0.10", "0.10"), ("S-2", "0.20", "0.10"), ("S-3", "0.30", "0.00")]
    # The ledger balances: invoiced minus paid minus credited is what is open, and the exposure.
    assert Decimal("0.60") - Decimal("0.30") - Decimal("0.10") == sum((Decimal(i["open_amount"]) for i in open_items), Decimal(0)) == expected[SMALL]
    for buyer, total in expected.items():
        exposure = (await limits.client.get(f"/v1/buyers/{buyer}/exposure", headers=limits.auth("sales"))).json()
        assert (exposure["open_invoices"], exposure["exposure"]) == (f"{total:.2f}", f"{total:.2f}"), exposure
    large = (await limits.client.get(f"/v1/buyers/{LARGE}/exposure", headers=limits.auth("sales"))).json()
    assert large["overdue"] == "99999999999999.03" and "99999999999999.03" in large["overdue_by_bucket"].values(), large
    portfolio = (await limits.client.get("/v1/portfolio", headers=limits.auth("credit_manager"))).json()
    assert Decimal(portfolio["open_invoices"]) == sum(expected.values()) == Decimal("100000000000009.23"), portfolio
    if limits.runtime.engine.dialect.name == "sqlite":
        for table, column in (("invoices", "amount"), ("invoices", "open_amount"), ("payments", "amount"), ("credit_notes", "amount")):
            assert await _money_kinds(limits, table, column) == {"integer"}, (table, column)


async def test_the_copies_scoring_and_alerts_keep_are_exact(start_service, databases, broker, eventually):
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW))
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW))
    alerts = await start_service(
        "alerts", database_url=await databases.create("alerts"), bootstrap_servers=broker.bootstrap_servers, clock=Clock(fixed=NOW), sweep_interval_seconds=3600
    )
    expected = await _post_documents(limits, largest=10)

    async def caught_up() -> None:
        for buyer, total in expected.items():
            behaviour = await scoring.client.get(f"/v1/buyers/{buyer}/payment-behaviour", headers=scoring.auth("sales"))
            assert behaviour.status_code == 200 and Decimal(behaviour.json()["open_amount"]) == total, behaviour.text
            profile = await alerts.client.get(f"/v1/buyers/{buyer}/profile", headers=alerts.auth("sales"))
            assert profile.status_code == 200 and Decimal(profile.json()["exposure"]) == total, profile.text
            receivables = (await alerts.client.get(f"/v1/buyers/{buyer}/receivables", headers=alerts.auth("sales"))).json()
            assert sum((Decimal(r["open_amount"]) for r in receivables), Decimal(0)) == total, receivables

    await eventually(caught_up, timeout=60)
    behaviour = (await scoring.client.get(f"/v1/buyers/{LARGE}/payment-behaviour", headers=scoring.auth("sales"))).json()
    assert (Decimal(behaviour["overdue_amount"]), behaviour["invoices_open"]) == (expected[LARGE], 11), behaviour
    small = (await alerts.client.get(f"/v1/buyers/{SMALL}/receivables", headers=alerts.auth("sales"))).json()
    assert sorted((r["invoice_id"], r["amount"], r["open_amount"]) for r in small) == [
        ("S-1", "0.10", "0.10"),
        ("S-2", "0.20", "0.10"),
        ("S-3", "0.30", "0.00"),
    ], small
    large = (await alerts.client.get(f"/v1/buyers/{LARGE}/receivables", headers=alerts.auth("sales"))).json()
    assert {r["amount"] for r in large} == {"999999999999.99", "0.03"}, large
    if limits.runtime.engine.dialect.name == "sqlite":
        for service, table, column in (
            (scoring, "payment_experiences", "amount"),
            (scoring, "payment_experiences", "open_amount"),
            (scoring, "settlements", "amount"),
            (alerts, "receivables", "amount"),
            (alerts, "receivables", "open_amount"),
            (alerts, "receivable_settlements", "amount"),
            (alerts, "buyer_profiles", "exposure"),
        ):
            assert await _money_kinds(service, table, column) == {"integer"}, (service.name, table, column)
