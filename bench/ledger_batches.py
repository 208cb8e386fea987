"""Benchmark the ledger's batch routes (an ERP's invoice run, a bank statement's payments) in
documents per second, on SQLite and PostgreSQL.

Usage (from the repo root)::

    .venv/bin/python bench/ledger_batches.py [--buyers 3000] [--batches 20] [--batch-size 500] [--clients 4] [--database both]
        [--rates 1000,2000] [--seconds 10] [--no-raw]

For each database it migrates a fresh database, seeds buyers with limits and an open invoice
each (as bench/credit_checks.py does), starts limits with uvicorn on a free loopback port (relay
and consumers off: each batch still writes its events to the outbox in its transaction), and
sends ``--batches`` invoice batches of ``--batch-size`` new invoices of random buyers from
``--clients`` concurrent clients, then as many payment batches paying those invoices in full.
The baseline, measured the same way in the same run, is an app that parses and validates the
same bodies and stores nothing (bench/ledger_batches_trivial_app.py). On SQLite the floor is
measured too, on a database of its own seeded the same way: the batch's own statements through
the stdlib sqlite3 module on the event loop, without the ORM, the unit of work or a model per
document (bench/ledger_batches_raw_app.py; ``--no-raw`` leaves it out). Then the open loop: at
each ``--rates`` offered load (documents/s) the batches leave on a fixed schedule for
``--seconds`` and each is timed from its scheduled send time, so queueing counts (p50, p99 and
max per batch). Prints documents/s and the ratios;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.credit_checks import TODAY, seeded_database, serve, service_env
from bench.http_load import LoadResult, OpenLoopResult, encode_post, run_closed_loop, run_open_loop
from creditguard_shared.auth.keys import Role, add_key


def batches(base_url: str, key: str, buyers: list[str], *, count: int, size: int, run: str) -> tuple[list[bytes], list[bytes]]:
    """``count`` invoice batches of ``size`` new invoices, and the payment batches settling them."""
    rng = random.Random(run)
    headers = {"Authorization": f"Bearer {key}"}
    invoices, payments = [], []
    for b in range(count):
        run_invoices = []
        for n in range(size):
            issued = TODAY - timedelta(days=rng.randint(0, 30))
            run_invoices.append(
                {
                    "invoice_id": f"{run}-I{b}-{n}",
                    "buyer_id": rng.choice(buyers),
                    "amount": f"{rng.randint(100, 9_000)}.00",
                    "currency": "EUR",
                    "issued_on": issued.isoformat(),
                    "due_on": (issued + timedelta(days=60)).isoformat(),
                }
            )
        invoices.append(encode_post(f"{base_url}/v1/invoices/batch", {"invoices": run_invoices}, headers=headers))
        payments.append(
            encode_post(
                f"{base_url}/v1/payments/batch",
                {
                    "payments": [
                        {
                            "payment_id": f"P-{i['invoice_id']}",
                            "buyer_id": i["buyer_id"],
                            "invoice_id": i["invoice_id"],
                            "amount": i["amount"],
                            "currency": "EUR",
                            "paid_on": TODAY.isoformat(),
                        }
                        for i in run_invoices
                    ]
                },
                headers=headers,
            )
        )
    return invoices, payments


async def drive(base_url: str, key: str, buyers: list[str], args: argparse.Namespace, run: str) -> tuple[LoadResult, LoadResult]:
    invoices, payments = batches(base_url, key, buyers, count=args.batches, size=args.batch_size, run=run)
    warm_invoices, warm_payments = batches(base_url, key, buyers, count=2, size=args.batch_size, run=f"warm-{run}")
    await run_closed_loop(f"{base_url}/v1/invoices/batch", warm_invoices, concurrency=1)
    await run_closed_loop(f"{base_url}/v1/payments/batch", warm_payments, concurrency=1)
    invoiced = await run_closed_loop(f"{base_url}/v1/invoices/batch", invoices, concurrency=args.clients, keep_bodies=True)
    paid = await run_closed_loop(f"{base_url}/v1/payments/batch", payments, concurrency=args.clients, keep_bodies=True)
    for result in (invoiced, paid):
        if set(result.statuses) - {200}:
            raise RuntimeError(f"unexpected statuses {result.statuses}: {result.bodies[0][:300]!r}")
        created = sum(json.loads(body)["created"] for body in result.bodies)
        if created != args.batches * args.batch_size:
            raise RuntimeError(f"{created} documents created of {args.batches * args.batch_size}")
    return invoiced, paid


async def drive_open_loop(base_url: str, key: str, buyers: list[str], args: argparse.Namespace, run: str) -> list[tuple[float, OpenLoopResult, OpenLoopResult]]:
    """At each offered load (documents/s): invoice batches sent on a fixed schedule for
    ``--seconds``, then the payment batches settling them on the same schedule; each batch timed
    from its scheduled send time."""
    measured = []
    for rate in [float(r) for r in args.rates.split(",") if r]:
        count = max(round(rate * args.seconds / args.batch_size), 1)
        invoices, payments = batches(base_url, key, buyers, count=count, size=args.batch_size, run=f"{run}-open{rate:g}")
        per_second = rate / args.batch_size
        invoiced = await run_open_loop(f"{base_url}/v1/invoices/batch", invoices, rate=per_second)
        paid = await run_open_loop(f"{base_url}/v1/payments/batch", payments, rate=per_second)
        for result in (invoiced, paid):
            if set(result.statuses) - {200}:
                raise RuntimeError(f"unexpected statuses {result.statuses}")
        measured.append((rate, invoiced, paid))
    return measured


def report_open_loop(label: str, measured: list[tuple[float, OpenLoopResult, OpenLoopResult]], batch_size: int) -> None:
    for rate, invoiced, paid in measured:
        for route, result in (("invoices", invoiced), ("payments", paid)):
            print(
                f"    open loop {label:<12} {route:<8} offered {rate:6.0f} documents/s  achieved {result.throughput * batch_size:6.0f}/s   "
                f"p50 {result.percentile(0.5) * 1000:7.1f} ms   p99 {result.percentile(0.99) * 1000:7.1f} ms   max {result.max_latency * 1000:7.1f} ms"
            )


def documents_per_second(result: LoadResult, batch_size: int) -> float:
    return result.throughput * batch_size


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cg-bench-ledger-"))
    keys_file = workdir / "api-keys.json"
    erp_key = add_key(keys_file, role=Role.ERP, name="bench")[0]
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"ledger batches: {args.buyers} buyers, {args.batches} batches of {args.batch_size} documents each way, {args.clients} concurrent clients")
    for backend in backends:
        async with seeded_database(backend, workdir, buyers=args.buyers, invoices_per_buyer=1) as (url, buyers):
            env = service_env(url, keys_file)
            trivial, trivial_url = serve("bench.ledger_batches_trivial_app:app", {}, factory=False)
            try:
                baseline = await drive(trivial_url, erp_key, buyers, args, run="baseline")
            finally:
                trivial.terminate()
                trivial.wait(timeout=10)
            floor, floor_open = None, []
            if args.raw and backend == "sqlite":
                # A database of its own, seeded the same: on the service's, the floor's documents
                # would make every later statement of the service work on a larger book.
                async with seeded_database(backend, workdir, buyers=args.buyers, invoices_per_buyer=1) as (floor_url, _):
                    raw_database = floor_url.replace("sqlite+aiosqlite:", "sqlite:")
                    raw, raw_url = serve("bench.ledger_batches_raw_app:app", {"RAW_DATABASE_URL": raw_database}, factory=False)
                    try:
                        floor = await drive(raw_url, erp_key, buyers, args, run="raw")
                        floor_open = await drive_open_loop(raw_url, erp_key, buyers, args, run="raw")
                    finally:
                        raw.terminate()
                        raw.wait(timeout=10)
            service, service_url = serve("creditguard_limits.app:create_app", env, factory=True)
            try:
                measured = await drive(service_url, erp_key, buyers, args, run=backend)
                measured_open = await drive_open_loop(service_url, erp_key, buyers, args, run=backend)
            finally:
                service.terminate()
                service.wait(timeout=30)
            print(f"{backend}:")
            for n, label in enumerate(("invoice batches", "payment batches")):
                rate, base_rate = documents_per_second(measured[n], args.batch_size), documents_per_second(baseline[n], args.batch_size)
                print(
                    f"  {label:<16} {rate:8.0f} documents/s   p50 {measured[n].percentile(0.5) * 1000:7.1f} ms per batch   "
                    f"baseline (parse only) {base_rate:8.0f} documents/s   ratio {rate / base_rate:.2f}"
                )
                if floor is not None:
                    floor_rate = documents_per_second(floor[n], args.batch_size)
                    print(
                        f"    raw driver, same statements {floor_rate:8.0f} documents/s   p50 {floor[n].percentile(0.5) * 1000:7.1f} ms per batch   "
                        f"service / raw driver {rate / floor_rate:.2f}"
                    )
            report_open_loop("service", measured_open, args.batch_size)
            if floor is not None:
                report_open_loop("raw driver", floor_open, args.batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rates", default="1000,2000", help="open loop: offered loads in documents/s, comma-separated (empty: none)")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: how long each offered load runs")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--raw", action=argparse.BooleanOptionalAction, default=True, help="also the batch's own statements through sqlite3 (SQLite only)")
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
