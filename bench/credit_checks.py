"""Benchmark POST /v1/credit-checks against a trivial FastAPI POST endpoint, on SQLite and PostgreSQL.

Usage (from the repo root)::

    .venv/bin/python bench/credit_checks.py [--buyers 3000] [--invoices-per-buyer 5] [--requests 3000] [--concurrency 32]
        [--rates 100,300] [--seconds 10] [--workers 1,2] [--database both] [--no-raw]

For each database it creates a fresh database (a SQLite file; a PostgreSQL database on
CREDITGUARD_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres), migrates it,
seeds buyers with limits and open invoices through the service's repository models, starts the
limits service with uvicorn in a subprocess on a free loopback port (outbox relay and consumers
off: events are still written to the outbox in each check's transaction), and drives it with 32
concurrent keep-alive clients (bench/http_load.py). Two baselines are served and driven the same
way in the same run: a trivial endpoint (bench/credit_checks_trivial_app.py), the cheapest
durable answer, one INSERT and a commit on the same database (bench/credit_checks_floor_app.py),
and the floor of the check itself: its own statements on the same database through the raw
driver, sqlite3 on the event loop or asyncpg, without the ORM or the policy
(bench/credit_checks_raw_app.py; on PostgreSQL also in five round trips instead of eight).
Then the open loop: credit checks sent on a fixed schedule at each offered rate for ``--seconds``
(bench/http_load.py ``run_open_loop``), latency from each request's scheduled send time, so
queueing counts: p50, p99 and max at 100 and 300 checks/s. On PostgreSQL the service also runs
with each ``--workers`` count (uvicorn worker processes). Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import uvloop
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_load import LoadResult, OpenLoopResult, encode_post, run_closed_loop, run_open_loop
from creditguard_limits.models.accounts import CreditAccount
from creditguard_limits.models.ledger import Invoice
from creditguard_local.stack import free_port, wait_for_port
from creditguard_shared.auth.keys import Role, add_key
from creditguard_shared.database import create_engine
from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.service_cli import migrations_dir

REPO_ROOT = Path(__file__).resolve().parents[1]

POSTGRES_ADMIN_DSN = os.environ.get("CREDITGUARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TODAY = date(2026, 12, 1)


async def seed(database_url: str, *, buyers: int, invoices_per_buyer: int) -> list[str]:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    rng = random.Random(7)
    ids = [f"B-{i:06d}" for i in range(buyers)]
    accounts, invoices = [], []
    for buyer_id in ids:
        accounts.append(
            {
                "buyer_id": buyer_id,
                "limit_amount": Decimal(rng.choice([50_000, 100_000, 250_000, 1_000_000])),
                "currency": "EUR",
                "payment_terms_days": 60,
                "review_on": date(2027, 6, 30),
                "limit_source": "manual",
                "status": "active",
                "flags": "[]",
                "grade": rng.randint(1, 5),
                "risk_class": "low",
                "country": rng.choice(["DE", "FR", "NL", "IT", "ES"]),
                "updated_at": now,
            }
        )
        for n in range(invoices_per_buyer):
            amount = Decimal(rng.randint(500, 5_000))
            issued = TODAY - timedelta(days=rng.randint(1, 80))
            invoices.append(
                {
                    "invoice_id": f"{buyer_id}-I{n}",
                    "buyer_id": buyer_id,
                    "amount": amount,
                    "currency": "EUR",
                    "issued_on": issued,
                    "due_on": issued + timedelta(days=60),
                    "open_amount": amount,
                    "late_bucket_announced": 0,
                    "created_at": now,
                }
            )
    async with engine.begin() as connection:
        await connection.execute(insert(CreditAccount), accounts)
        for start in range(0, len(invoices), 5000):
            await connection.execute(insert(Invoice), invoices[start : start + 5000])
    await engine.dispose()
    return ids


def serve(app: str, env: dict[str, str], *, factory: bool, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    if factory:
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers), "--timeout-worker-healthcheck", "60"]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=REPO_ROOT)
    wait_for_port("127.0.0.1", port, timeout=120)
    return process, f"http://127.0.0.1:{port}"


def orders(base_url: str, key: str, buyers: list[str], *, count: int, prefix: str, seed: int) -> list[bytes]:
    """Pre-encoded credit checks of random buyers, amounts and terms, each a new order."""
    rng = random.Random(seed)
    url = f"{base_url}/v1/credit-checks"
    headers = {"Authorization": f"Bearer {key}"}
    return [
        encode_post(
            url,
            {
                "buyer_id": rng.choice(buyers),
                "order_id": f"{prefix}-{uuid.uuid4().hex}",
                "amount": f"{rng.randint(100, 20_000)}.00",
                "currency": "EUR",
                "payment_terms_days": rng.choice([30, 45, 60]),
            },
            headers=headers,
        )
        for _ in range(count)
    ]


async def drive_open_loop(base_url: str, key: str, buyers: list[str], *, rate: float, seconds: float) -> OpenLoopResult:
    url = f"{base_url}/v1/credit-checks"
    await run_closed_loop(url, orders(base_url, key, buyers, count=64, prefix=f"WO{rate:g}", seed=5), concurrency=8)  # warm up
    result = await run_open_loop(url, orders(base_url, key, buyers, count=int(rate * seconds), prefix=f"R{rate:g}", seed=int(rate)), rate=rate)
    if set(result.statuses) - {200, 201}:
        raise RuntimeError(f"unexpected statuses {result.statuses}")
    return result


def report_open_loop(label: str, result: OpenLoopResult) -> None:
    print(
        f"  {label:<22} offered {result.offered_rate:5.0f}/s  achieved {result.throughput:6.0f}/s   p50 {result.percentile(0.50) * 1000:7.2f} ms   "
        f"p99 {result.percentile(0.99) * 1000:7.2f} ms   max {result.max_latency * 1000:7.2f} ms   "
        f"({len(result.latencies)} checks, {result.connections} connections, {result.late_starts} sent late)"
    )


async def drive(base_url: str, key: str, buyers: list[str], *, requests: int, concurrency: int) -> tuple[LoadResult, dict[str, int]]:
    rng = random.Random(11)
    url = f"{base_url}/v1/credit-checks"
    headers = {"Authorization": f"Bearer {key}"}

    def order(prefix: str) -> bytes:
        return encode_post(
            url,
            {
                "buyer_id": rng.choice(buyers),
                "order_id": f"{prefix}-{uuid.uuid4().hex}",
                "amount": f"{rng.randint(100, 20_000)}.00",
                "currency": "EUR",
                "payment_terms_days": rng.choice([30, 45, 60]),
            },
            headers=headers,
        )

    await run_closed_loop(url, [order("W") for _ in range(concurrency * 4)], concurrency=concurrency)  # warm connections and code paths
    result = await run_closed_loop(url, [order("O") for _ in range(requests)], concurrency=concurrency, keep_bodies=True)
    if set(result.statuses) - {200, 201}:
        raise RuntimeError(f"unexpected statuses {result.statuses}: {result.bodies[:3]}")
    decisions: dict[str, int] = {}
    for body in result.bodies:
        decision = json.loads(body)["decision"]
        decisions[decision] = decisions.get(decision, 0) + 1
    return result, decisions


async def create_postgres_database() -> tuple[str, str]:
    name = f"cg_bench_limits_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name, POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


async def drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def seeded_database(backend: str, workdir: Path, *, buyers: int, invoices_per_buyer: int) -> AsyncIterator[tuple[str, list[str]]]:
    """A fresh, migrated and seeded limits database (a SQLite file or a PostgreSQL database
    dropped afterwards): its URL and the buyer ids."""
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'limits-{uuid.uuid4().hex[:6]}.db'}"
    else:
        pg_name, url = await create_postgres_database()
    try:
        await asyncio.to_thread(upgrade_to_head, migrations_dir("creditguard_limits"), url)
        yield url, await seed(url, buyers=buyers, invoices_per_buyer=invoices_per_buyer)
    finally:
        if pg_name:
            await drop_postgres_database(pg_name)


def service_env(url: str, keys_file: Path) -> dict[str, str]:
    """Limits on that database with the relay and consumers off (events still go to the outbox in
    each transaction) and the scheduled jobs out of the way."""
    return {
        "LIMITS_DATABASE_URL": url,
        "LIMITS_API_KEYS_FILE": str(keys_file),
        "LIMITS_RELAY_ENABLED": "false",
        "LIMITS_CONSUMERS_ENABLED": "false",
        "LIMITS_LOG_LEVEL": "WARNING",
        "LIMITS_DAILY_SWEEP_INTERVAL_SECONDS": "86400",
        "LIMITS_PORTFOLIO_METRICS_INTERVAL_SECONDS": "86400",
    }


async def raw_driver_floor(backend: str, url: str, key: str, buyers: list[str], *, args: argparse.Namespace, trivial: LoadResult) -> None:
    """The check's own statements through the raw driver (bench/credit_checks_raw_app.py), closed
    and open loop: the floor any data path for the check can reach on this database."""
    raw_url = url.replace("sqlite+aiosqlite:", "sqlite:").replace("postgresql+asyncpg:", "postgresql:")
    variants: list[tuple[str, dict[str, str]]] = [("same statements", {})]
    if backend == "postgresql":
        variants.append(("five round trips", {"RAW_ROUND_TRIPS": "few"}))
    for label, extra in variants:
        process, raw = serve("bench.credit_checks_raw_app:app", {"RAW_DATABASE_URL": raw_url, **extra}, factory=False)
        try:
            result, decisions = await drive(raw, key, buyers, requests=args.requests, concurrency=args.concurrency)
            open_loops = [await drive_open_loop(raw, key, buyers, rate=rate, seconds=args.seconds) for rate in [float(r) for r in args.rates.split(",") if r]]
        finally:
            process.terminate()
            process.wait(timeout=10)
        report(f"raw driver, {label}", result)
        print(f"    raw driver / trivial: {result.throughput / trivial.throughput:.2f}   decisions: {decisions}")
        for open_loop in open_loops:
            report_open_loop("  open loop", open_loop)


def report(label: str, result: LoadResult) -> None:
    print(f"  {label:<22} {result.throughput:8.0f} req/s   p50 {result.percentile(0.50) * 1000:6.2f} ms   p99 {result.percentile(0.99) * 1000:6.2f} ms")


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cg-bench-limits-"))
    keys_file = workdir / "api-keys.json"
    erp_key = add_key(keys_file, role=Role.ERP, name="bench")[0]
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    rates = [float(r) for r in args.rates.split(",") if r]
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    print(f"credit checks: {args.buyers} buyers x {args.invoices_per_buyer} open invoices, {args.requests} requests, {args.concurrency} concurrent clients")
    for backend in backends:
        async with seeded_database(backend, workdir, buyers=args.buyers, invoices_per_buyer=args.invoices_per_buyer) as (url, buyers):
            env = service_env(url, keys_file)
            trivial, trivial_url = serve("bench.credit_checks_trivial_app:app", {}, factory=False)
            floor, floor_url = serve("bench.credit_checks_floor_app:app", {"FLOOR_DATABASE_URL": url}, factory=False)
            try:
                baseline, _ = await drive(trivial_url, erp_key, buyers, requests=args.requests, concurrency=args.concurrency)
                durable, _ = await drive(floor_url, erp_key, buyers, requests=args.requests, concurrency=args.concurrency)
            finally:
                for process in (trivial, floor):
                    process.terminate()
                    process.wait(timeout=10)
            print(f"{backend}:")
            report("trivial POST", baseline)
            report("one INSERT + commit", durable)
            if args.raw:
                await raw_driver_floor(backend, url, erp_key, buyers, args=args, trivial=baseline)
            for workers in worker_counts if backend == "postgresql" else [1]:
                service, service_url = serve("creditguard_limits.app:create_app", env, factory=True, workers=workers)
                try:
                    checks, decisions = await drive(service_url, erp_key, buyers, requests=args.requests, concurrency=args.concurrency)
                    open_loops = [await drive_open_loop(service_url, erp_key, buyers, rate=rate, seconds=args.seconds) for rate in rates]
                finally:
                    service.terminate()
                    service.wait(timeout=30)
                label = f"{workers} worker{'s' if workers > 1 else ''}"
                report(f"credit checks, {label}", checks)
                print(
                    f"    credit checks / trivial: {checks.throughput / baseline.throughput:.2f}   credit checks / one INSERT + commit: "
                    f"{checks.throughput / durable.throughput:.2f}   one INSERT + commit / trivial: {durable.throughput / baseline.throughput:.2f}"
                )
                print(f"    decisions: {decisions}")
                for result in open_loops:
                    report_open_loop("  open loop", result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--invoices-per-buyer", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rates", default="100,300", help="open-loop offered loads, checks per second, comma-separated ('' for none)")
    parser.add_argument("--seconds", type=float, default=10, help="how long each open-loop load is offered")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to run limits with on PostgreSQL, comma-separated")
    parser.add_argument(
        "--raw",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also drive the check's statements through the raw driver (the floor, bench/credit_checks_raw_app.py)",
    )
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
