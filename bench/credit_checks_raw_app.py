"""The floor for bench/credit_checks.py: a credit check's own statements through the raw driver.

Same request body, same seeded database and the statements the service runs for one check, taken
from its SQL log: lock the buyer's account with its limit terms (temporary increases, insurance
cover); one UNION ALL of its open invoices (with the overdue buckets), open orders, unapplied cash
and the exchange rates; the previous decision for the order; then the decision row, the
reservation (when approved), the events in the outbox (decision; exposure when approved) and the
commit. The decision itself is the limit and the overdue-beyond-usual checks of the packaged policy in a few lines; there
is no ORM, no unit of work and no policy evaluation, so the service's ratio to this endpoint is what
its own stack costs above the database.

- SQLite (``RAW_DATABASE_URL=sqlite:///path``): the stdlib ``sqlite3`` module called on the event
  loop (no thread hop), WAL, synchronous NORMAL, ``BEGIN IMMEDIATE``; money in cents as the
  service stores it.
- PostgreSQL (``RAW_DATABASE_URL=postgresql://...``): asyncpg, a pool of 10 connections (the
  service's), statements prepared once by asyncpg's statement cache, ``FOR UPDATE`` on the
  account row. ``RAW_ROUND_TRIPS=few`` instead locks the account, reads the totals and the
  previous decision in one statement and writes the decision, reservation and events in one
  (data-modifying CTEs): BEGIN, lock, read, write, COMMIT (five round trips instead of eight).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Response

from bench.credit_checks_trivial_app import Order

BUCKET_STARTS = (1, 16, 31, 61, 91)
ACCOUNT_COLUMNS = (
    "buyer_id, group_id, limit_amount, currency, payment_terms_days, review_on, limit_source, status, status_reason, flags, breached, name, "
    "country, industry, grade, risk_class, pd, equity, sales, statement_currency, assessed_at, invoices_settled, invoices_paid_on_time, "
    "days_late_total, relationship_since, purchases_12m, updated_at"
)
CHECK_COLUMNS = (
    "check_id, buyer_id, order_id, amount, currency, payment_terms_days, decision, state, reasons, conditions, limit_currency, limit_amount, "
    "limit_basis, exposure_before, exposure_after, available_credit, breakdown, economics, rules_version, requested_by, decided_by, "
    "decision_comment, created_at, decided_at"
)
OUTBOX_COLUMNS = "event_id, topic, message_key, event_type, payload, correlation_id, created_at"


def _account_sql(*, lock: bool) -> str:
    return (
        f"SELECT {', '.join('a.' + c.strip() for c in ACCOUNT_COLUMNS.split(','))}, "
        "(SELECT coalesce(sum(t.amount), 0) FROM temporary_increases t WHERE t.buyer_id = a.buyer_id AND t.cancelled_at IS NULL "
        "AND t.valid_from <= ?1 AND t.valid_until >= ?1) AS temporary_increase, "
        "p.policy_id, p.insurer, c.currency, c.granted_amount, p.indemnity_percentage, p.max_credit_period_days, p.uninsured_action "
        "FROM credit_accounts a LEFT OUTER JOIN insurance_covers c ON c.buyer_id = a.buyer_id "
        "AND (c.valid_from IS NULL OR c.valid_from <= ?1) AND (c.valid_until IS NULL OR c.valid_until >= ?1) "
        "LEFT OUTER JOIN insurance_policies p ON p.policy_id = c.policy_id WHERE a.buyer_id = ?2" + (" FOR UPDATE OF a" if lock else "")
    )


def _totals_sql(*, true: str) -> str:
    buckets = ", ".join(f"sum(CASE WHEN i.due_on <= ?{3 + n} THEN i.open_amount ELSE 0 END)" for n in range(len(BUCKET_STARTS)))
    nulls = ", ".join("NULL" for _ in BUCKET_STARTS)
    return (
        f"SELECT 'invoices', i.currency, sum(i.open_amount), CAST(NULL AS NUMERIC(20, 10)), min(CASE WHEN i.due_on < ?1 THEN i.due_on END), {buckets} "
        "FROM invoices i WHERE i.buyer_id = ?2 AND i.open_amount > 0 GROUP BY i.currency "
        f"UNION ALL SELECT 'orders', o.currency, sum(o.amount), NULL, NULL, {nulls} FROM order_reservations o "
        "WHERE o.buyer_id = ?2 AND o.status = 'open' AND o.expires_on >= ?1 GROUP BY o.currency "
        f"UNION ALL SELECT 'cash', cash.currency, sum(cash.amount), NULL, NULL, {nulls} FROM ("
        "SELECT p.currency AS currency, CASE WHEN p.from_unapplied_cash THEN -p.amount ELSE p.amount - coalesce(p.applied_amount, 0) END AS amount "
        f"FROM payments p WHERE p.buyer_id = ?2 AND (p.from_unapplied_cash = {true} OR p.applied_amount < p.amount OR p.applied_amount IS NULL) "
        "UNION ALL SELECT r.currency, -r.amount FROM refunds r WHERE r.buyer_id = ?2) AS cash GROUP BY cash.currency "
        f"UNION ALL SELECT 'rates', f.currency, NULL, f.rate, NULL, {nulls} FROM fx_rates f"
    )


PREVIOUS_SQL = f"SELECT {CHECK_COLUMNS} FROM credit_checks WHERE order_id = ?1 ORDER BY created_at DESC LIMIT 1"
INSERT_CHECK = f"INSERT INTO credit_checks ({CHECK_COLUMNS}) VALUES ({', '.join('?' for _ in CHECK_COLUMNS.split(','))})"
INSERT_RESERVATION = (
    "INSERT INTO order_reservations (order_id, buyer_id, check_id, amount, currency, status, expires_on, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)"
)
INSERT_OUTBOX = f"INSERT INTO outbox_events ({OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _pg(sql: str) -> str:
    """Numbered ``?N`` and bare ``?`` placeholders as ``$N``."""
    out, bare, i = [], 0, 0
    while i < len(sql):
        if sql[i] == "?":
            j = i + 1
            while j < len(sql) and sql[j].isdigit():
                j += 1
            if j > i + 1:
                out.append("$" + sql[i + 1 : j])
            else:
                bare += 1
                out.append(f"${bare}")
            i = j
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


# PostgreSQL in fewer round trips: the lock stays a statement of its own (in READ COMMITTED a
# statement reads from the snapshot it started with, so totals read in the statement that waited
# for the lock could miss an order committed meanwhile); the totals and the previous decision
# are read together, and the decision, reservation and events are written by one statement.
PG_TOTALS_AND_PREVIOUS = _pg(
    _totals_sql(true="true")
    + " UNION ALL (SELECT 'previous:' || c.decision, c.check_id, NULL, NULL, NULL, "
    + ", ".join("NULL" for _ in BUCKET_STARTS)
    + " FROM credit_checks c WHERE c.order_id = ?8 ORDER BY c.created_at DESC LIMIT 1)"
)
PG_WRITE_ALL = _pg(
    f"WITH decided AS ({INSERT_CHECK.replace('?', '?{}').format(*range(1, 25))} RETURNING 1), "
    "reserved AS (INSERT INTO order_reservations (order_id, buyer_id, check_id, amount, currency, status, expires_on, created_at) "
    "SELECT ?3, ?2, ?1, ?4, ?5, 'open', ?25, ?23 WHERE ?26 RETURNING 1) "
    f"INSERT INTO outbox_events ({OUTBOX_COLUMNS}) SELECT * FROM unnest(?27::varchar[], ?28::varchar[], ?29::varchar[], ?30::varchar[], "
    "?31::varchar[], ?32::varchar[], ?33::timestamptz[])"
)


def _cents(value: Decimal) -> int:
    return int(value * 100)


def _decide(account: Any, totals: list[Any], *, amount: Decimal, today: date, cents: bool) -> dict[str, Any]:
    scale = Decimal(100) if cents else Decimal(1)
    open_invoices = orders = cash = Decimal(0)
    oldest_due = None
    for row in totals:
        kind, value = row[0], row[2]
        if kind == "invoices":
            open_invoices += Decimal(value or 0) / scale
            oldest_due = row[4]
        elif kind == "orders":
            orders += Decimal(value or 0) / scale
        elif kind == "cash":
            cash += Decimal(value or 0) / scale
    limit = (Decimal(account["limit_amount"] or 0) + Decimal(account["temporary_increase"] or 0)) / scale
    before = max(open_invoices + orders - cash, Decimal(0))
    after = before + amount
    if isinstance(oldest_due, str):
        oldest_due = date.fromisoformat(oldest_due)
    overdue_days = (today - oldest_due).days if oldest_due else 0
    settled = account["invoices_settled"] or 0
    usual = Decimal(account["days_late_total"] or 0) / settled if settled else Decimal(0)
    reasons = []
    if after > limit:
        reasons.append({"code": "limit_exceeded", "message": f"Exposure after the order ({after}) exceeds the limit {limit} EUR by {after - limit}."})
    if overdue_days > usual * 2 + 20:
        reasons.append(
            {
                "code": "overdue_beyond_usual",
                "message": f"The oldest open invoice is {overdue_days} days past due; the buyer usually pays "
                f"{usual} days late (allowed: 2 x that + 20 = {usual * 2 + 20}).",
            }
        )
    decision = "referred" if reasons else "approved"
    return {
        "decision": decision,
        "reasons": reasons,
        "limit": limit,
        "before": before,
        "after": after,
        "available": max(limit - (after if decision == "approved" else before), Decimal(0)),
        "breakdown": {
            "position": {
                "currency": "EUR",
                "limit": str(limit),
                "open_invoices": str(open_invoices),
                "open_orders": str(orders),
                "unapplied_cash": str(cash),
                "oldest_overdue_days": overdue_days,
            },
            "order_amount_in_limit_currency": str(amount),
        },
    }


def _event(event_type: str, topic: str, subject: str, data: dict, now: datetime) -> tuple[str, str, str, str, str]:
    event_id = str(uuid.uuid4())
    payload = json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/creditguard/limits",
            "type": event_type,
            "subject": subject,
            "time": now.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        },
        separators=(",", ":"),
    )
    return event_id, topic, subject, event_type, payload


def _record(order: Order, outcome: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    check_id = str(uuid.uuid4())
    events = [
        _event(
            "creditguard.credit-check.decided.v1",
            "credit-check-decided",
            order.buyer_id,
            {
                "check_id": check_id,
                "buyer_id": order.buyer_id,
                "order_id": order.order_id,
                "decision": outcome["decision"],
                "amount": order.amount,
                "currency": order.currency,
                "decided_by": None,
            },
            now,
        )
    ]
    if outcome["decision"] == "approved":
        events.append(
            _event(
                "creditguard.exposure.changed.v1",
                "exposure-changed",
                order.buyer_id,
                {
                    "buyer_id": order.buyer_id,
                    "currency": "EUR",
                    "limit": str(outcome["limit"]),
                    "exposure": str(outcome["after"]),
                    "available": str(outcome["available"]),
                },
                now,
            )
        )
    return {
        "check_id": check_id,
        "events": events,
        "reasons": json.dumps(outcome["reasons"]),
        "breakdown": json.dumps(outcome["breakdown"] | {"inputs": order.model_dump(mode="json")}),
    }


def _answer(order: Order, outcome: dict[str, Any], check_id: str) -> dict[str, Any]:
    return {
        "id": check_id,
        "buyer_id": order.buyer_id,
        "order_id": order.order_id,
        "decision": outcome["decision"],
        "reasons": outcome["reasons"],
        "conditions": [],
        "limit": str(outcome["limit"]),
        "exposure_before": str(outcome["before"]),
        "exposure_after": str(outcome["after"]),
        "available_credit": str(outcome["available"]),
    }


def _check_row(
    order: Order, outcome: dict[str, Any], record: dict[str, Any], *, amount: Decimal, money: Callable[[Decimal], Any], stamp: Any
) -> tuple[Any, ...]:
    """The decision row's values in the table's column order; ``money`` stores an amount as the
    database holds it (cents on SQLite), ``stamp`` is the time as the driver takes it."""
    decided = outcome["decision"] != "referred"
    return (
        record["check_id"], order.buyer_id, order.order_id, money(amount), order.currency, order.payment_terms_days, outcome["decision"],
        "decided" if decided else "pending", record["reasons"], "[]", "EUR", money(outcome["limit"]), "limit", money(outcome["before"]),
        money(outcome["after"]), money(outcome["available"]), record["breakdown"], None, "bench", "bench", None, None, stamp, stamp if decided else None,
    )  # fmt: skip


class SqliteChecks:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA busy_timeout=30000")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        # sqlite3 takes the ?N and ? placeholders as they are.
        self.account_sql = _account_sql(lock=False)
        self.totals_sql = _totals_sql(true="1")

    def check(self, order: Order) -> tuple[int, dict[str, Any]]:
        now = datetime.now(UTC)
        today = now.date()
        amount = Decimal(order.amount)
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = connection.execute(self.account_sql, (today.isoformat(), order.buyer_id))
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
            if row is None:
                raise HTTPException(404, "unknown buyer")
            account = dict(zip(names, row, strict=True))
            account["temporary_increase"] = row[27]
            buckets = [(today - timedelta(days=start)).isoformat() for start in BUCKET_STARTS]
            totals = connection.execute(self.totals_sql, (today.isoformat(), order.buyer_id, *buckets)).fetchall()
            previous = connection.execute(PREVIOUS_SQL, (order.order_id,)).fetchone()
            if previous is not None:
                connection.execute("COMMIT")
                return 200, {"id": previous[0], "decision": previous[6]}
            outcome = _decide(account, totals, amount=amount, today=today, cents=True)
            record = _record(order, outcome, now=now)
            stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(INSERT_CHECK, _check_row(order, outcome, record, amount=amount, money=_cents, stamp=stamp))
            if outcome["decision"] == "approved":
                connection.execute(
                    INSERT_RESERVATION,
                    (order.order_id, order.buyer_id, record["check_id"], _cents(amount), order.currency, (today + timedelta(days=30)).isoformat(), stamp),
                )
            connection.executemany(INSERT_OUTBOX, [(*event, None, stamp) for event in record["events"]])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return 201, _answer(order, outcome, record["check_id"])


class PostgresChecks:
    def __init__(self, pool: asyncpg.Pool, *, few_round_trips: bool) -> None:
        self.pool = pool
        self.few_round_trips = few_round_trips
        self.account_sql = _pg(_account_sql(lock=True))
        self.totals_sql = _pg(_totals_sql(true="true"))
        self.previous_sql = _pg(PREVIOUS_SQL)
        self.insert_check = _pg(INSERT_CHECK)
        self.insert_reservation = _pg(INSERT_RESERVATION)
        self.insert_outbox = _pg(INSERT_OUTBOX)

    async def check(self, order: Order) -> tuple[int, dict[str, Any]]:
        now = datetime.now(UTC)
        today = now.date()
        amount = Decimal(order.amount)
        buckets = [today - timedelta(days=start) for start in BUCKET_STARTS]
        async with self.pool.acquire() as connection, connection.transaction():
            account = await connection.fetchrow(self.account_sql, today, order.buyer_id)
            if account is None:
                raise HTTPException(404, "unknown buyer")
            if self.few_round_trips:
                rows = await connection.fetch(PG_TOTALS_AND_PREVIOUS, today, order.buyer_id, *buckets, order.order_id)
                totals = [row for row in rows if not row[0].startswith("previous:")]
                previous = next(({"check_id": row[1], "decision": row[0].split(":", 1)[1]} for row in rows if row[0].startswith("previous:")), None)
            else:
                totals = await connection.fetch(self.totals_sql, today, order.buyer_id, *buckets)
                stored = await connection.fetchrow(self.previous_sql, order.order_id)
                previous = None if stored is None else {"check_id": stored["check_id"], "decision": stored["decision"]}
            if previous is not None:
                return 200, {"id": previous["check_id"], "decision": previous["decision"]}
            outcome = _decide(account, totals, amount=amount, today=today, cents=False)
            record = _record(order, outcome, now=now)
            approved = outcome["decision"] == "approved"
            values = _check_row(order, outcome, record, amount=amount, money=lambda value: value, stamp=now)
            if self.few_round_trips:
                columns = list(zip(*[(*event, None, now) for event in record["events"]], strict=True))
                await connection.execute(PG_WRITE_ALL, *values, today + timedelta(days=30), approved, *[list(c) for c in columns])
            else:
                await connection.execute(self.insert_check, *values)
                if approved:
                    await connection.execute(
                        self.insert_reservation, order.order_id, order.buyer_id, record["check_id"], amount, order.currency, today + timedelta(days=30), now
                    )
                await connection.executemany(self.insert_outbox, [(*event, None, now) for event in record["events"]])
        return 201, _answer(order, outcome, record["check_id"])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["RAW_DATABASE_URL"]
    if url.startswith("sqlite"):
        app.state.checks = SqliteChecks(url.split("///", 1)[1])
        yield
        app.state.checks.connection.close()
        return
    pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
    app.state.checks = PostgresChecks(pool, few_round_trips=os.environ.get("RAW_ROUND_TRIPS") == "few")
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/credit-checks", status_code=201)
async def credit_check(order: Order, response: Response) -> dict[str, Any]:
    checks = app.state.checks
    response.status_code, body = checks.check(order) if isinstance(checks, SqliteChecks) else await checks.check(order)
    return body
