"""The credit check's own cost: CPU time and Python function calls per check, in-process.

Usage (from the repo root)::

    .venv/bin/python bench/credit_check_cpu.py [--database both] [--checks 3000] [--repeat 3]

Seeds a fresh database as bench/credit_checks.py does (3,000 buyers with limits, 5 open invoices
each), starts the limits app in this process (its lifespan, relay and consumers off) and sends
``--checks`` new orders to ``POST /v1/credit-checks`` one after another straight through the ASGI
interface: no socket, no HTTP parser, no load generator and no other request sharing the cores.
What remains is the service's whole stack (middleware, FastAPI's dependencies and validation, the
unit of work, the policy, the statements) and the database. It prints, per check, wall time and
this process's CPU time for each of ``--repeat`` runs, and the Python function calls a check makes
(counted with the profiler in a separate run of the same requests). CPU time moves with the machine's
cores from one run to the next; the call count does not, so it compares two versions of the code
on any machine. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.credit_checks import seeded_database, service_env
from creditguard_shared.auth.keys import Role, add_key

Send = Callable[[dict[str, Any]], Awaitable[tuple[int, bytes]]]


def asgi_post(app: Any, path: str, key: str) -> Send:
    """A POST of a JSON body to ``app`` through its ASGI callable: (status, body)."""

    async def post(body: dict[str, Any]) -> tuple[int, bytes]:
        content = json.dumps(body).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"authorization", f"Bearer {key}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        received = False
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": content, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return answer["status"], answer["body"]

    return post


def new_orders(buyers: list[str], *, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "buyer_id": rng.choice(buyers),
            "order_id": f"CPU-{uuid.uuid4().hex}",
            "amount": f"{rng.randint(100, 20_000)}.00",
            "currency": "EUR",
            "payment_terms_days": rng.choice([30, 45, 60]),
        }
        for _ in range(count)
    ]


async def send_all(post: Send, orders: list[dict[str, Any]]) -> Counter[str]:
    decisions: Counter[str] = Counter()
    for order in orders:
        status, body = await post(order)
        if status not in (200, 201):
            raise RuntimeError(f"unexpected status {status}: {body[:300]!r}")
        decisions[json.loads(body)["decision"]] += 1
    return decisions


async def measure(backend: str, args: argparse.Namespace, workdir: Path) -> None:
    keys_file = workdir / f"api-keys-{backend}.json"
    key = add_key(keys_file, role=Role.ERP, name="bench")[0]
    async with seeded_database(backend, workdir, buyers=3000, invoices_per_buyer=5) as (url, buyers):
        os.environ.update(service_env(url, keys_file))
        from creditguard_limits.app import create_app

        app = create_app()
        async with app.router.lifespan_context(app):
            post = asgi_post(app, "/v1/credit-checks", key)
            await send_all(post, new_orders(buyers, count=200, seed=1))  # warm up
            print(f"{backend}:")
            for run in range(args.repeat):
                orders = new_orders(buyers, count=args.checks, seed=10 + run)
                wall, cpu = time.perf_counter(), time.process_time()
                decisions = await send_all(post, orders)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(f"  run {run + 1}: {wall / args.checks * 1000:.2f} ms wall, {cpu / args.checks * 1000:.2f} ms CPU per check   {dict(decisions)}")
            orders = new_orders(buyers, count=args.checks, seed=99)
            profile = cProfile.Profile()
            profile.enable()
            await send_all(post, orders)
            profile.disable()
            print(f"  Python function calls per check: {pstats.Stats(profile).total_calls / args.checks:,.0f}")  # type: ignore[attr-defined]


async def run(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory(prefix="cg-check-cpu-") as directory:
        print(f"credit checks in-process, one after another: 3000 buyers x 5 open invoices, {args.checks} checks per run")
        for backend in backends:
            await measure(backend, args, Path(directory))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    uvloop.run(run(args))


if __name__ == "__main__":
    main()
