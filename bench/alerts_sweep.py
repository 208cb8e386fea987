"""Time the alerts sweep on a real book: a copy of the alerts database a simulation left behind.

Usage (from the repo root), after ``make demo`` (or any ``creditguard-simulate --var-dir DIR``)::

    .venv/bin/python bench/alerts_sweep.py --database /work/demo_var/alerts.db [--day 2027-01-05] [--repeat 3]

Each repetition copies the database afresh (the original is never touched), migrates the copy to
the current schema, and runs one sweep in one unit of work, as ``POST /v1/alerts/sweep`` does, on
the given day (default: the day after the last invoice in the database). It prints the invoices
and cases the sweep visited and its wall and CPU time. The first repetition also pays for a cold
page cache. Asserts nothing about time.
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
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from creditguard_alerts import jobs
from creditguard_alerts.context import AlertsContext
from creditguard_alerts.database import messaging_tables
from creditguard_alerts.metrics import AlertsMetrics
from creditguard_alerts.models import load_all_models
from creditguard_alerts.settings import Settings
from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.unit_of_work import UnitOfWork

load_all_models()


def _day_after_last_invoice(database: Path) -> date:
    with sqlite3.connect(database) as connection:
        (last,) = connection.execute("SELECT max(issued_on) FROM receivables").fetchone()
    if last is None:
        raise SystemExit(f"{database} holds no receivables: run a simulation first")
    return date.fromisoformat(last) + timedelta(days=1)


def _open_cases(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM collection_cases WHERE status = 'open'").fetchone()[0]


async def _sweep_once(database: Path, day: date) -> tuple[dict[str, int], float, float]:
    settings = Settings(database_url=f"sqlite:///{database}")
    engine = create_engine(settings.database_url)
    try:
        uow_factory = functools.partial(UnitOfWork, session_factory=create_session_factory(engine), tables=messaging_tables, source="bench")
        context = AlertsContext(now=datetime.combine(day, clock_time(9), tzinfo=UTC), settings=settings, metrics=AlertsMetrics("alerts"))
        wall, cpu = time.perf_counter(), time.process_time()
        async with uow_factory() as uow:
            checked = await jobs.sweep(uow, context=context)
            await uow.commit()
        return checked, time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True, help="an alerts SQLite database left by a simulation")
    parser.add_argument("--day", type=date.fromisoformat, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    day = args.day or _day_after_last_invoice(args.database)
    print(f"alerts sweep on a copy of {args.database}, day {day}, {_open_cases(args.database)} open cases before the sweep")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "alerts.db"
        for repetition in range(1, args.repeat + 1):
            shutil.copy(args.database, copy)
            subprocess.run(
                [sys.executable, "-m", "creditguard_alerts.cli", "migrate"],
                check=True,
                env={**os.environ, "ALERTS_DATABASE_URL": f"sqlite:///{copy}"},
                capture_output=True,
            )
            checked, wall, cpu = asyncio.run(_sweep_once(copy, day))
            print(f"  sweep {repetition}: {checked['invoices_checked']} overdue invoices, wall {wall * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms")


if __name__ == "__main__":
    main()
