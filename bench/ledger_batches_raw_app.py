"""The floor for bench/ledger_batches.py: a batch's own statements through the raw driver (SQLite).

Same request bodies, same seeded database and the statements the service runs for one batch, taken
from its SQL log, in one ``BEGIN IMMEDIATE`` transaction on the stdlib ``sqlite3`` module called on
the event loop (WAL, synchronous NORMAL; money in cents as the service stores it):

- invoices: lock (read) the batch's accounts with their limit terms in one statement; the
  batch's invoice ids already recorded (a re-sent document); payments and credit notes held for
  those invoices; the invoices in one ``executemany``; each changed buyer's totals in one
  ``UNION ALL`` grouped by buyer; an ``invoice-posted`` event per document and an
  ``exposure-changed`` event per buyer into the outbox in one ``executemany``; the commit.
- payments: the accounts; the invoices they settle and the payment ids already recorded; the
  accounts' settled and on-time counts, the invoices' open amounts and the payments, each in one
  ``executemany``; the totals; a ``payment-received`` event per document and an
  ``exposure-changed`` per buyer; the commit.

The per-document work is what the documents need and no more (dates checked, cash applied up to
what is open, the event's JSON): no ORM, no unit of work, no pydantic model per document.

``RAW_DATABASE_URL=sqlite:///path`` names the database.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response

from bench.credit_checks_raw_app import _event
from creditguard_limits.ledger.rules import INVOICE_DATED_AHEAD_DAYS, MAX_INVOICE_TERMS_DAYS, PAYMENT_DATED_AHEAD_DAYS

BUCKET_STARTS = (1, 16, 31, 61, 91)
OUTBOX = "INSERT INTO outbox_events (event_id, topic, message_key, event_type, payload, correlation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_INVOICE = (
    "INSERT INTO invoices (order_id, late_bucket_announced, created_at, invoice_id, buyer_id, amount, currency, issued_on, due_on, open_amount, settled_on) "
    "VALUES (NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)
INSERT_PAYMENT = (
    "INSERT INTO payments (payment_id, buyer_id, invoice_id, amount, currency, paid_on, applied_amount, from_unapplied_cash, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)"
)
UPDATE_INVOICE = "UPDATE invoices SET open_amount = ?, settled_on = ? WHERE invoice_id = ?"
UPDATE_ACCOUNT = "UPDATE credit_accounts SET invoices_settled = ?, invoices_paid_on_time = ? WHERE buyer_id = ?"


def _in(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def _accounts_sql(count: int) -> str:
    return (
        "SELECT a.buyer_id, a.limit_amount, a.currency, a.breached, a.invoices_settled, a.invoices_paid_on_time, "
        "(SELECT coalesce(sum(t.amount), 0) FROM temporary_increases t WHERE t.buyer_id = a.buyer_id AND t.cancelled_at IS NULL "
        "AND t.valid_from <= ? AND t.valid_until >= ?) AS temporary_increase, c.granted_amount "
        "FROM credit_accounts a LEFT OUTER JOIN insurance_covers c ON c.buyer_id = a.buyer_id "
        "AND (c.valid_from IS NULL OR c.valid_from <= ?) AND (c.valid_until IS NULL OR c.valid_until >= ?) "
        f"WHERE a.buyer_id IN ({_in(count)}) ORDER BY a.buyer_id"
    )


def _totals_sql(count: int) -> str:
    buckets = ", ".join("sum(CASE WHEN i.due_on <= ? THEN i.open_amount ELSE 0 END)" for _ in BUCKET_STARTS)
    nulls = ", ".join("NULL" for _ in BUCKET_STARTS)
    owners = _in(count)
    return (
        f"SELECT 'invoices', i.buyer_id, i.currency, sum(i.open_amount), min(CASE WHEN i.due_on < ? THEN i.due_on END), {buckets} "
        f"FROM invoices i WHERE i.buyer_id IN ({owners}) AND i.open_amount > 0 GROUP BY i.buyer_id, i.currency "
        f"UNION ALL SELECT 'orders', o.buyer_id, o.currency, sum(o.amount), NULL, {nulls} FROM order_reservations o "
        f"WHERE o.buyer_id IN ({owners}) AND o.status = 'open' AND o.expires_on >= ? GROUP BY o.buyer_id, o.currency "
        f"UNION ALL SELECT 'cash', cash.buyer_id, cash.currency, sum(cash.amount), NULL, {nulls} FROM ("
        "SELECT p.buyer_id AS buyer_id, p.currency AS currency, "
        "CASE WHEN p.from_unapplied_cash THEN -p.amount ELSE p.amount - coalesce(p.applied_amount, 0) END AS amount "
        f"FROM payments p WHERE p.buyer_id IN ({owners}) AND (p.from_unapplied_cash = 1 OR p.applied_amount < p.amount OR p.applied_amount IS NULL) "
        f"UNION ALL SELECT r.buyer_id, r.currency, -r.amount FROM refunds r WHERE r.buyer_id IN ({owners})) AS cash GROUP BY cash.buyer_id, cash.currency "
        f"UNION ALL SELECT 'rates', NULL, f.currency, f.rate, NULL, {nulls} FROM fx_rates f"
    )


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _money(cents: int | None) -> str:
    return str(Decimal(cents or 0) / 100)


def _outbox_row(event_type: str, topic: str, subject: str, data: dict[str, Any], now: datetime, stamp: str) -> tuple[Any, ...]:
    """An outbox row of the event, as the check's floor writes them (no correlation id)."""
    return (*_event(event_type, topic, subject, data, now), None, stamp)


class SqliteLedger:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA busy_timeout=30000")
        self.connection.execute("PRAGMA synchronous=NORMAL")

    def _accounts(self, buyer_ids: list[str], today: str) -> dict[str, tuple[Any, ...]]:
        rows = self.connection.execute(_accounts_sql(len(buyer_ids)), (today, today, today, today, *buyer_ids)).fetchall()
        accounts = {row[0]: row for row in rows}
        if len(accounts) != len(buyer_ids):
            raise HTTPException(422, "unknown buyer")
        return accounts

    def _exposure_events(self, accounts: dict[str, tuple[Any, ...]], now: datetime, stamp: str) -> list[tuple[Any, ...]]:
        """Each buyer's totals in one statement and its exposure-changed event."""
        today = now.date()
        buyer_ids = list(accounts)
        iso = today.isoformat()
        buckets = [(today - timedelta(days=start)).isoformat() for start in BUCKET_STARTS]
        parameters = (iso, *buckets, *buyer_ids, *buyer_ids, iso, *buyer_ids, *buyer_ids)
        exposure: dict[str, int] = defaultdict(int)
        overdue: dict[str, int] = defaultdict(int)
        for kind, buyer_id, _currency, amount, _oldest, past_due, *_ in self.connection.execute(_totals_sql(len(buyer_ids)), parameters):
            if kind == "invoices":
                exposure[buyer_id] += amount or 0
                overdue[buyer_id] += past_due or 0
            elif kind == "orders":
                exposure[buyer_id] += amount or 0
            elif kind == "cash":
                exposure[buyer_id] -= amount or 0
        events = []
        for buyer_id, account in accounts.items():
            limit = (account[1] or 0) + (account[6] or 0) if account[1] is not None else None
            total = max(exposure[buyer_id], 0)
            data = {
                "buyer_id": buyer_id,
                "currency": account[2] or "EUR",
                "limit": _money(limit) if limit is not None else None,
                "exposure": _money(total),
                "overdue": _money(overdue[buyer_id]),
                "available": _money(max(limit - total, 0)) if limit is not None else None,
            }
            events.append(_outbox_row("creditguard.exposure.changed.v1", "exposure-changed", buyer_id, data, now, stamp))
        return events

    @contextmanager
    def _transaction(self) -> Iterator[tuple[sqlite3.Connection, datetime, date, str]]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error), with the time and today."""
        now = datetime.now(UTC)
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection, now, now.date(), now.strftime("%Y-%m-%d %H:%M:%S.%f")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def post_invoices(self, invoices: list[dict[str, str]]) -> dict[str, Any]:
        with self._transaction() as (connection, now, today, stamp):
            accounts = self._accounts(sorted({i["buyer_id"] for i in invoices}), today.isoformat())
            ids = [i["invoice_id"] for i in invoices]
            existing = {row[0] for row in connection.execute(f"SELECT invoice_id FROM invoices WHERE invoice_id IN ({_in(len(ids))})", ids)}
            held = connection.execute(
                f"SELECT invoice_id, paid_on, coalesce(applied_amount, amount) FROM payments WHERE invoice_id IN ({_in(len(ids))}) "
                f"UNION ALL SELECT invoice_id, issued_on, amount FROM credit_notes WHERE invoice_id IN ({_in(len(ids))})",
                ids + ids,
            ).fetchall()
            if existing or held:
                raise HTTPException(409, "the floor records new invoices only")
            rows, events, items = [], [], []
            for invoice in invoices:
                issued, due = date.fromisoformat(invoice["issued_on"]), date.fromisoformat(invoice["due_on"])
                # The service's date rules: dated at most a few days ahead, terms of at most a year.
                if (issued - today).days > INVOICE_DATED_AHEAD_DAYS or due < issued or (due - issued).days > MAX_INVOICE_TERMS_DAYS:
                    raise HTTPException(422, f"invoice {invoice['invoice_id']}: dates")
                amount = _cents(invoice["amount"])
                rows.append((stamp, invoice["invoice_id"], invoice["buyer_id"], amount, invoice["currency"], invoice["issued_on"], invoice["due_on"], amount))
                events.append(_outbox_row("creditguard.invoice.posted.v1", "invoice-posted", invoice["buyer_id"], {**invoice, "historical": False}, now, stamp))
                items.append({"created": True, "invoice": {**invoice, "open_amount": invoice["amount"], "settled_on": None}})
            connection.executemany(INSERT_INVOICE, rows)
            connection.executemany(OUTBOX, events + self._exposure_events(accounts, now, stamp))
        return {"created": len(items), "unchanged": 0, "items": items}

    def post_payments(self, payments: list[dict[str, str]]) -> dict[str, Any]:
        with self._transaction() as (connection, now, today, stamp):
            accounts = self._accounts(sorted({p["buyer_id"] for p in payments}), today.isoformat())
            invoice_ids = [p["invoice_id"] for p in payments]
            invoices = {
                row[0]: list(row)
                for row in connection.execute(
                    f"SELECT invoice_id, buyer_id, currency, issued_on, due_on, open_amount FROM invoices WHERE invoice_id IN ({_in(len(invoice_ids))})",
                    invoice_ids,
                )
            }
            payment_ids = [p["payment_id"] for p in payments]
            if connection.execute(f"SELECT payment_id FROM payments WHERE payment_id IN ({_in(len(payment_ids))})", payment_ids).fetchall():
                raise HTTPException(409, "the floor records new payments only")
            counts = {buyer_id: [account[4] or 0, account[5] or 0] for buyer_id, account in accounts.items()}
            payment_rows, invoice_rows, events, items = [], [], [], []
            for payment in payments:
                invoice = invoices.get(payment["invoice_id"])
                if invoice is None or invoice[1] != payment["buyer_id"] or invoice[2] != payment["currency"]:
                    raise HTTPException(422, f"payment {payment['payment_id']}: invoice")
                paid_on = date.fromisoformat(payment["paid_on"])
                if (paid_on - today).days > PAYMENT_DATED_AHEAD_DAYS:
                    raise HTTPException(422, f"payment {payment['payment_id']}: date")
                amount = _cents(payment["amount"])
                applied = min(amount, invoice[5])
                invoice[5] -= applied
                if invoice[5] == 0:
                    counts[payment["buyer_id"]][0] += 1
                    counts[payment["buyer_id"]][1] += paid_on <= date.fromisoformat(invoice[4])
                invoice_rows.append((invoice[5], payment["paid_on"] if invoice[5] == 0 else None, invoice[0]))
                payment_rows.append(
                    (payment["payment_id"], payment["buyer_id"], payment["invoice_id"], amount, payment["currency"], payment["paid_on"], applied, stamp)
                )
                data = {**payment, "historical": False, "unapplied_amount": _money(amount - applied)}
                events.append(_outbox_row("creditguard.payment.received.v1", "payment-received", payment["buyer_id"], data, now, stamp))
                items.append({"created": True, "payment": {**payment, "applied_amount": _money(applied)}})
            connection.executemany(UPDATE_ACCOUNT, [(settled, on_time, buyer_id) for buyer_id, (settled, on_time) in counts.items()])
            connection.executemany(UPDATE_INVOICE, invoice_rows)
            connection.executemany(INSERT_PAYMENT, payment_rows)
            connection.executemany(OUTBOX, events + self._exposure_events(accounts, now, stamp))
        return {"created": len(items), "unchanged": 0, "items": items}


def _ledger() -> SqliteLedger:
    url = os.environ["RAW_DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        raise SystemExit("RAW_DATABASE_URL must be a sqlite:/// URL")
    return SqliteLedger(url.removeprefix("sqlite:///"))


app = FastAPI()
ledger = _ledger() if "RAW_DATABASE_URL" in os.environ else None


def _answer(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), media_type="application/json")


@app.post("/v1/invoices/batch")
async def invoices(request: Request) -> Response:
    assert ledger is not None
    return _answer(ledger.post_invoices(json.loads(await request.body())["invoices"]))


@app.post("/v1/payments/batch")
async def payments(request: Request) -> Response:
    assert ledger is not None
    return _answer(ledger.post_payments(json.loads(await request.body())["payments"]))
