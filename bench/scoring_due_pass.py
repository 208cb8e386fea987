"""Time scoring's due pass on a real book: a copy of the scoring database a simulation left behind.

Usage (from the repo root), after ``make demo`` (or any ``creditguard-simulate --var-dir DIR``)::

    .venv/bin/python bench/scoring_due_pass.py --database /work/demo_var/scoring.db [--buyers 200] [--repeat 3]

Each repetition copies the database afresh (the original is never touched), migrates the copy,
marks ``--buyers`` buyers with payment history due and re-assesses them in transactions of
twenty, twice on separate copies: as the pass does (each batch read ahead) and, as the baseline in
the same run, buyer by buyer (each buyer's due mark, score, profile, statements, experiences and
adverse events read on their own, as before the read-ahead). It prints wall and CPU time per buyer,
statements per buyer, and the ratio. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, event

from creditguard_scoring.assessment.service import (
    REASSESSMENTS_PER_TRANSACTION,
    AssessmentContext,
    load_risk_tables,
    reassess_if_due,
    run_due_reassessments,
)
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.database import messaging_tables
from creditguard_scoring.financial_model import load_scorecard
from creditguard_scoring.metrics import ScoringMetrics
from creditguard_scoring.models import load_all_models
from creditguard_scoring.models.assessment import ReassessmentDue
from creditguard_scoring.settings import Settings
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

load_all_models()
NOW = datetime(2027, 1, 5, 9, tzinfo=UTC)


def _buyers_with_history(database: Path, count: int) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT buyer_id FROM payment_experiences GROUP BY buyer_id ORDER BY buyer_id LIMIT ?", (count,)).fetchall()
    if not rows:
        raise SystemExit(f"{database} holds no payment experiences: run a simulation first")
    return [buyer_id for (buyer_id,) in rows]


def _context(settings: Settings) -> AssessmentContext:
    return AssessmentContext(
        scorecard=load_scorecard(),
        tables=load_risk_tables(settings.risk_tables_dir),
        portfolio_base_rate=settings.portfolio_base_rate,
        stale_after_days=settings.statement_stale_after_days,
        max_reasons=settings.max_reasons,
        debounce=timedelta(seconds=settings.rescore_debounce_seconds),
        max_delay=timedelta(seconds=settings.rescore_max_delay_seconds),
        metrics=ScoringMetrics(ServiceMetrics("scoring")),
        base_calibration=Calibration.from_settings(settings),
    )


async def _buyer_by_buyer(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, buyer_ids: list[str]) -> int:
    """The pass's batches without the read-ahead: every buyer's rows read on their own."""
    assessed = 0
    for start in range(0, len(buyer_ids), REASSESSMENTS_PER_TRANSACTION):
        async with uow_factory() as uow:
            for buyer_id in buyer_ids[start : start + REASSESSMENTS_PER_TRANSACTION]:
                assessed += await reassess_if_due(uow, context=context, buyer_id=buyer_id, now=NOW)
            await uow.commit()
    return assessed


async def _read_ahead(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, buyer_ids: list[str]) -> int:
    return await run_due_reassessments(uow_factory, context=context, now=NOW, limit=len(buyer_ids))


Variant = Callable[..., Awaitable[int]]


async def _run(database: Path, buyer_ids: list[str], variant: Variant) -> tuple[int, int, float, float]:
    settings = Settings(database_url=f"sqlite:///{database}")
    engine = create_engine(settings.database_url)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    try:
        uow_factory = functools.partial(UnitOfWork, session_factory=create_session_factory(engine), tables=messaging_tables, source="bench")
        async with uow_factory() as uow:
            # Only these buyers are due (the book's own marks are dropped).
            await uow.session.execute(delete(ReassessmentDue))
            for buyer_id in buyer_ids:
                uow.session.add(ReassessmentDue(buyer_id=buyer_id, due_at=NOW - timedelta(minutes=5), latest_at=NOW, marks=1))
            await uow.commit()
        context = _context(settings)
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        wall, cpu = time.perf_counter(), time.process_time()
        assessed = await variant(uow_factory, context=context, buyer_ids=buyer_ids)
        return assessed, statements, time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True, help="a scoring SQLite database left by a simulation")
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    buyer_ids = _buyers_with_history(args.database, args.buyers)
    print(f"scoring due pass on a copy of {args.database}: {len(buyer_ids)} buyers with payment history, {REASSESSMENTS_PER_TRANSACTION} per transaction")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "scoring.db"
        for repetition in range(1, args.repeat + 1):
            seconds = {}
            for name, variant in (("buyer by buyer", _buyer_by_buyer), ("read ahead", _read_ahead)):
                shutil.copy(args.database, copy)
                subprocess.run(
                    [sys.executable, "-m", "creditguard_scoring.cli", "migrate"],
                    check=True,
                    env={**os.environ, "SCORING_DATABASE_URL": f"sqlite:///{copy}"},
                    capture_output=True,
                )
                assessed, statements, wall, cpu = asyncio.run(_run(copy, buyer_ids, variant))
                seconds[name] = wall
                print(
                    f"  {repetition} {name:>14}: {assessed} assessed, {statements / assessed:.1f} statements, "
                    f"wall {wall * 1000 / assessed:.2f} ms, CPU {cpu * 1000 / assessed:.2f} ms per buyer"
                )
            print(f"  {repetition} wall ratio read ahead / buyer by buyer: {seconds['read ahead'] / seconds['buyer by buyer']:.2f}")


if __name__ == "__main__":
    main()
