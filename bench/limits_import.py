"""Time one ``POST /v1/imports`` worth of an existing book on SQLite: 5,000 documents (accounts,
a year of invoices and their payments) in one unit of work, as the route runs it.

Usage (from the repo root)::

    .venv/bin/python bench/limits_import.py [--buyers 300] [--documents 5000] [--repeat 2]
    .venv/bin/python bench/limits_import.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/empty_db

Each repetition migrates a fresh SQLite database in a temporary directory, records an assessment
for every buyer (as scoring's buyer-assessed would, before the import; not timed), parses the
request body as the route does, imports it and commits, then imports the same body again (a re-import
changes nothing). It prints wall and CPU time of both. With ``--database-url`` it runs once on
that database instead, which must be empty (e.g. a fresh ``createdb``). Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from creditguard_limits.context import LimitsContext
from creditguard_limits.database import messaging_tables
from creditguard_limits.imports.schemas import ImportIn
from creditguard_limits.imports.service import import_book
from creditguard_limits.metrics import LimitsMetrics
from creditguard_limits.models import load_all_models
from creditguard_limits.policy.service import PolicyStore
from creditguard_limits.settings import Settings
from creditguard_shared.clock import Clock
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.service_cli import migrations_dir
from creditguard_shared.unit_of_work import UnitOfWork

load_all_models()

TODAY = date(2026, 12, 1)


def book(*, buyers: int, documents: int, seed: int = 7) -> str:
    """A year of monthly-ish invoices per buyer, most paid (a few late), the recent ones open."""
    rng = random.Random(seed)
    accounts = [
        {"buyer_id": f"B{n:05d}", "relationship_since": (TODAY - timedelta(days=rng.randint(30, 3000))).isoformat(), "limit": None} for n in range(buyers)
    ]
    invoices: list[dict] = []
    payments: list[dict] = []
    number = 0
    while len(accounts) + len(invoices) + len(payments) < documents:
        buyer = accounts[number % buyers]["buyer_id"]
        issued = TODAY - timedelta(days=rng.randint(1, 365))
        due = issued + timedelta(days=30)
        amount = f"{rng.randint(500, 40000)}.00"
        invoice_id = f"I{number:06d}"
        invoices.append(
            {"invoice_id": invoice_id, "buyer_id": buyer, "amount": amount, "currency": "EUR", "issued_on": issued.isoformat(), "due_on": due.isoformat()}
        )
        paid = due + timedelta(days=rng.choice([-5, -1, 0, 0, 3, 12, 40]))
        if paid < TODAY and len(accounts) + len(invoices) + len(payments) < documents:
            payments.append(
                {"payment_id": f"P{number:06d}", "buyer_id": buyer, "invoice_id": invoice_id, "amount": amount, "currency": "EUR", "paid_on": paid.isoformat()}
            )
        number += 1
    return json.dumps({"accounts": accounts, "invoices": invoices, "payments": payments})


async def _import(engine, context: LimitsContext, body: str) -> tuple[dict, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    request = ImportIn.model_validate_json(body)
    async with UnitOfWork(session_factory=create_session_factory(engine), tables=messaging_tables, source="bench") as uow:
        counts = await import_book(uow, context=context, book=request, changed_by="bench")
        await uow.commit()
    return counts.model_dump(), time.perf_counter() - wall, time.process_time() - cpu


async def _assess_all(engine, context: LimitsContext, buyer_ids: list[str]) -> None:
    from decimal import Decimal

    from creditguard_limits.accounts.service import record_assessment
    from creditguard_shared.events.contracts import BuyerAssessedV1

    async with UnitOfWork(session_factory=create_session_factory(engine), tables=messaging_tables, source="bench") as uow:
        for n, buyer_id in enumerate(buyer_ids):
            await record_assessment(
                uow,
                context=context,
                assessment=BuyerAssessedV1(
                    buyer_id=buyer_id,
                    assessment_id=f"A-{buyer_id}",
                    assessed_at=datetime(2026, 11, 30, tzinfo=UTC),
                    model_version="bench",
                    pd=0.01,
                    grade=2 + n % 6,
                    risk_class="medium",
                    financial_data_missing=False,
                    equity=Decimal("3000000.00"),
                    sales=Decimal("12000000.00"),
                    statement_currency="EUR",
                ),
            )
        await uow.commit()


async def _run_once(url: str, body: str) -> None:
    parsed = json.loads(body)
    await asyncio.to_thread(functools.partial(upgrade_to_head, migrations_dir("creditguard_limits"), url))
    settings = Settings(database_url=url)
    context = LimitsContext(
        settings=settings,
        clock=Clock(fixed=datetime(2026, 12, 1, 9, tzinfo=UTC)),
        policy=PolicyStore(None),
        metrics=LimitsMetrics(ServiceMetrics("limits-bench")),
    )
    engine = create_engine(url)
    try:
        await _assess_all(engine, context, [a["buyer_id"] for a in parsed["accounts"]])
        for label in ("import", "re-import"):
            counts, wall, cpu = await _import(engine, context, body)
            print(f"{label:9}: {wall:6.2f} s wall, {cpu:6.2f} s CPU  {counts}")
    finally:
        await engine.dispose()


async def run(*, buyers: int, documents: int, repeat: int, database_url: str | None) -> None:
    body = book(buyers=buyers, documents=documents)
    parsed = json.loads(body)
    print(f"{len(parsed['accounts'])} accounts, {len(parsed['invoices'])} invoices, {len(parsed['payments'])} payments")
    if database_url:
        await _run_once(database_url, body)
        return
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as directory:
            await _run_once(f"sqlite+aiosqlite:///{Path(directory) / 'limits.db'}", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", help="an empty database to run once on, instead of fresh SQLite files")
    arguments = parser.parse_args()
    asyncio.run(run(buyers=arguments.buyers, documents=arguments.documents, repeat=arguments.repeat, database_url=arguments.database_url))


if __name__ == "__main__":
    main()
