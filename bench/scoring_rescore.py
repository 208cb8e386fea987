"""Throughput of the scoring service's batch re-score (every buyer: load profile, statements,
payment history and adverse events, score, store the assessment, write its events to the outbox),
on SQLite and on PostgreSQL, against a baseline measured in the same run: the bare scorecard
predict loop over the same buyers' ratios.

Usage (from the repo root)::

    .venv/bin/python bench/scoring_rescore.py [--buyers 500] [--skip-postgres]

PostgreSQL is the admin DSN in CREDITGUARD_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres);
the script creates and drops its own database. Holdout AUCs of the financial model: bench/model_auc.py.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from creditguard_scoring.app import create_app
from creditguard_scoring.assessment.service import reassess_book
from creditguard_scoring.buyers.schemas import BuyerIn
from creditguard_scoring.buyers.service import put_buyer
from creditguard_scoring.database import messaging_tables
from creditguard_scoring.payment_behaviour.service import record_invoice, record_payment
from creditguard_scoring.settings import Settings
from creditguard_scoring.statements.rules import LINES, compute_ratios
from creditguard_scoring.statements.schemas import StatementIn
from creditguard_scoring.statements.service import submit_statement
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.events.contracts import InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.service_cli import migrations_dir
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POSTGRES_ADMIN_DSN = os.environ.get("CREDITGUARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def synthetic_statement(rng: random.Random, year: int) -> dict:
    total_assets = rng.uniform(1e6, 5e7)
    current = total_assets * rng.uniform(0.3, 0.7)
    liabilities = total_assets * rng.uniform(0.3, 0.95)
    short_term = liabilities * rng.uniform(0.4, 0.8)
    sales = total_assets * rng.uniform(0.6, 2.5)
    operating = sales * rng.uniform(-0.08, 0.12)
    interest = liabilities * rng.uniform(0.01, 0.06)

    def money(x: float) -> Decimal:
        return Decimal(f"{x:.2f}")

    return {
        "fiscal_year": year,
        "period_end": date(year, 12, 31),
        "currency": "EUR",
        "total_assets": money(total_assets),
        "current_assets": money(current),
        "cash": money(current * 0.2),
        "receivables": money(current * 0.4),
        "inventory": money(current * 0.3),
        "fixed_assets": money(total_assets - current),
        "total_liabilities": money(liabilities),
        "short_term_liabilities": money(short_term),
        "long_term_liabilities": money(liabilities - short_term),
        "equity": money(total_assets - liabilities),
        "share_capital": money(total_assets * 0.05),
        "retained_earnings": money((total_assets - liabilities) * 0.5),
        "sales": money(sales),
        "cost_of_products_sold": money(sales * 0.7),
        "gross_profit": money(sales * 0.3),
        "operating_profit": money(operating),
        "ebit": money(operating),
        "depreciation": money(total_assets * 0.03),
        "interest_expenses": money(interest),
        "net_profit": money((operating - interest) * 0.8),
        "prior_year_sales": money(sales * rng.uniform(0.8, 1.2)),
    }


async def seed(uow_factory: UnitOfWorkFactory, context, buyers: int) -> list[dict]:
    """Buyers with two years of statements and six invoices each; returns the latest ratios."""
    rng = random.Random(20261102)
    all_ratios = []
    for i in range(buyers):
        buyer_id = f"BENCH-{i:05d}"
        async with uow_factory() as uow:
            profile = BuyerIn(
                name=f"Buyer {i}",
                country=rng.choice(["DE", "FR", "PL", "IT", "NL"]),
                industry=rng.choice(["C", "F", "G", "41", "H"]),
                legal_form=rng.choice(["GmbH", "SA", "Ltd", "sole_trader"]),
                founded_on=date(rng.randint(1970, 2024), 1, 1),
            )
            await put_buyer(uow, buyer_id=buyer_id, profile=profile, now=NOW)
            for year in (2024, 2025):
                statement = synthetic_statement(rng, year)
                await submit_statement(uow, buyer_id=buyer_id, submitted=StatementIn(**statement), now=NOW)
            all_ratios.append(compute_ratios({k: statement.get(k) for k in LINES}))
            for n in range(6):
                due = date(2026, 4, 1) + timedelta(days=30 * n)
                invoice_id = f"{buyer_id}-{n}"
                await record_invoice(
                    uow,
                    event=InvoicePostedV1(
                        invoice_id=invoice_id, buyer_id=buyer_id, amount=Decimal("1000.00"), currency="EUR", issued_on=due - timedelta(days=30), due_on=due
                    ),
                )
                await record_payment(
                    uow,
                    event=PaymentReceivedV1(
                        payment_id=f"{invoice_id}-P",
                        buyer_id=buyer_id,
                        invoice_id=invoice_id,
                        amount=Decimal("1000.00"),
                        currency="EUR",
                        paid_on=due + timedelta(days=rng.choice([0, 0, 5, 20, 45])),
                    ),
                )
            await uow.commit()
    return all_ratios


def baseline(context, all_ratios: list[dict], repeats: int = 3) -> float:
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        for ratios in all_ratios:
            context.scorecard.predict(ratios, missing="neutral")
        best = max(best, len(all_ratios) / (time.perf_counter() - started))
    return best


async def measure(label: str, url: str, buyers: int) -> None:
    await asyncio.to_thread(upgrade_to_head, migrations_dir("creditguard_scoring"), url)
    context = create_app(Settings(database_url=url)).state.assessment_context
    engine = create_engine(url)
    try:
        uow_factory = functools.partial(
            UnitOfWork, session_factory=create_session_factory(engine), tables=messaging_tables, source="/creditguard/scoring-bench"
        )
        all_ratios = await seed(uow_factory, context, buyers)
        bare = baseline(context, all_ratios)
        started = time.perf_counter()
        assessed, failed = await reassess_book(uow_factory, context=context, now=NOW)
        seconds = time.perf_counter() - started
        rate = assessed / seconds
        print(
            f"{label:<11} buyers={assessed} failed={failed} batch re-score {rate:8.1f} buyers/s   "
            f"baseline (bare predict loop) {bare:8.1f} buyers/s   ratio {rate / bare:.3f}"
        )
    finally:
        await engine.dispose()


async def main(buyers: int, skip_postgres: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        await measure("sqlite", f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", buyers)
    if skip_postgres:
        return
    database = f"cg_bench_scoring_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        await measure("postgresql", f"{base}/{database}", buyers)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=500)
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.buyers, arguments.skip_postgres)))
