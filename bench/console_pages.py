"""Time every console page with a 10,000-buyer book loaded, through the whole system.

Usage (from the repo root)::

    .venv/bin/python bench/console_pages.py [--buyers 10000] [--referrals 300] [--samples 40]

Starts a broker, the three services and the console as processes on free loopback ports (SQLite
files in a temporary directory, as ``make run`` does), onboards a book with ``creditguard-import``
(buyer profiles to scoring, accounts with limits and two invoices each to limits; 25 account
owners), sends orders above their limits so the referral queue holds ``--referrals`` orders,
puts a few accounts on hold, and waits until the alerts service has every profile. Then it signs
in as the development credit manager and sales person and requests each page ``--samples`` times,
one at a time, and prints p50, p95 and max per page. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from creditguard_limits.imports.cli import read_book, run_import
from creditguard_local.stack import local_system

TODAY = datetime.now(UTC).date()
COUNTRIES = ("DE", "FR", "NL", "IT", "ES", "AT", "BE", "PL", "GB", "SE")
INDUSTRIES = ("C", "F", "G", "H", "41", "43.2", "46", "10.7")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_book(path: Path, *, buyers: int, owners: list[str], seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    profiles, accounts, invoices = [], [], []
    for n in range(buyers):
        buyer_id = f"B{n:05d}"
        profiles.append(
            {
                "buyer_id": buyer_id,
                "name": f"{rng.choice(['Nord', 'Süd', 'Alpen', 'Rhein', 'Atlantic', 'Baltic'])} "
                f"{rng.choice(['Maschinen', 'Logistik', 'Bau', 'Foods', 'Textil', 'Chemie'])} {n} GmbH",
                "country": rng.choice(COUNTRIES),
                "industry": rng.choice(INDUSTRIES),
                "account_owner": owners[n % len(owners)],
            }
        )
        limit = rng.choice([20_000, 50_000, 100_000, 250_000])
        account = {
            "buyer_id": buyer_id,
            "relationship_since": (TODAY - timedelta(days=rng.randint(60, 3000))).isoformat(),
            "limit": {"amount": f"{limit}.00", "currency": "EUR", "payment_terms_days": 30},
        }
        amounts = [rng.randint(500, limit // 4) for _ in range(2)]
        for i, amount in enumerate(amounts):
            issued = TODAY - timedelta(days=rng.randint(5, 70))
            invoices.append(
                {
                    "invoice_id": f"{buyer_id}-I{i}",
                    "buyer_id": buyer_id,
                    "amount": f"{amount}.00",
                    "currency": "EUR",
                    "issued_on": issued.isoformat(),
                    "due_on": (issued + timedelta(days=30)).isoformat(),
                }
            )
        accounts.append(account)
        # An order that takes the exposure 8 % over the limit: referred, not rejected (20 %).
        account["over_limit_order"] = f"{int(limit * 1.08) - sum(amounts)}.00"
    book = [{k: v for k, v in a.items() if k != "over_limit_order"} for a in accounts]
    path.write_text(json.dumps({"buyers": profiles, "accounts": book, "invoices": invoices, "payments": []}))
    return accounts


async def load(system, *, buyers: int, referrals: int, directory: Path) -> dict:
    people = system.people
    owners = [people["sales"]["email"], people["credit_manager"]["email"], *(f"owner{n}@example.com" for n in range(23))]
    accounts = write_book(directory / "book.json", buyers=buyers, owners=owners)
    scoring_url, limits_url, alerts_url = (system.services[n].base_url for n in ("scoring", "limits", "alerts"))
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=limits_url, timeout=300) as limits, httpx.AsyncClient(base_url=scoring_url, timeout=300) as scoring:
        await run_import(read_book([directory / "book.json"]), limits=limits, scoring=scoring, api_key=system.keys["admin"])
        print(f"loaded {buyers:,} buyers in {time.perf_counter() - started:.0f} s")
        erp = {"Authorization": f"Bearer {system.keys['erp']}"}
        manager = {"Authorization": f"Bearer {system.keys['credit_manager']}"}
        gate = asyncio.Semaphore(8)

        async def refer(n: int) -> None:
            account = accounts[n * 7919 % len(accounts)]
            async with gate:
                await limits.post(
                    "/v1/credit-checks",
                    headers=erp,
                    json={
                        "buyer_id": account["buyer_id"],
                        "order_id": f"SO-{n:05d}",
                        "amount": account["over_limit_order"],
                        "currency": "EUR",
                        "payment_terms_days": 30,
                    },
                )

        await asyncio.gather(*(refer(n) for n in range(min(referrals, len(accounts)))))
        for n in range(0, buyers, max(1, buyers // 40)):
            await limits.put(f"/v1/buyers/B{n:05d}/status", headers=manager, json={"status": "on_hold", "reason": "bench"})
        pending = (await limits.post("/v1/credit-checks/search", headers=manager, json={"limit": 1})).json()["total"]
        print(f"{pending} referred orders waiting")

    async with httpx.AsyncClient(base_url=alerts_url, timeout=60) as alerts:
        sales = {"Authorization": f"Bearer {system.keys['sales']}"}
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            known = (await alerts.get("/v1/buyer-profiles", params={"limit": 1}, headers=sales)).json()["total"]
            if known >= buyers:
                break
            await asyncio.sleep(2)
        print(f"alerts knows {known:,} profiles after {time.perf_counter() - started:.0f} s")
    await settled(system)
    print(f"every event handled after {time.perf_counter() - started:.0f} s")
    return {"sample_buyer": accounts[len(accounts) // 2]["buyer_id"]}


async def settled(system, *, timeout: float = 900) -> None:
    """Wait until no service has consumer lag or unsent outbox events, three polls in a row: pages
    timed while the services still digest the load would measure that work, not the pages (on
    SQLite a service has one connection, which a consumer's batch holds while it runs)."""
    quiet, deadline = 0, time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=30) as client:
        while quiet < 3 and time.monotonic() < deadline:
            backlog = 0.0
            for name in ("scoring", "limits", "alerts"):
                text = (await client.get(f"{system.services[name].base_url}/metrics")).text
                backlog += sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith(("creditguard_consumer_lag_messages{", "creditguard_outbox_pending_events{"))
                )
            quiet = quiet + 1 if backlog == 0 else 0
            await asyncio.sleep(1)


async def signed_in(base_url: str, person: dict) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30, headers={"Accept": "text/html"})
    form = await client.get("/login")
    token = CSRF.search(form.text)
    if token is None:
        raise RuntimeError(f"the sign-in page has no CSRF token: {form.status_code} {form.text[:200]}")
    response = await client.post("/login", data={"email": person["email"], "password": person["password"], "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    return client


async def measure(client: httpx.AsyncClient, path: str, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = await client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bench(system, arguments: argparse.Namespace, directory: Path) -> None:
    if True:
        loaded = await load(system, buyers=arguments.buyers, referrals=arguments.referrals, directory=directory)
        console = system.services["console"].base_url
        manager = await signed_in(console, system.people["credit_manager"])
        sales = await signed_in(console, system.people["sales"])
        pages = [
            ("credit manager", manager, "/referrals"),
            ("credit manager", manager, "/referrals?sort=-amount&page=3"),
            ("credit manager", manager, "/referrals?country=DE"),
            ("credit manager", manager, "/referrals?mine=1"),
            ("credit manager", manager, "/referrals?reason=limit_exceeded&grade=5"),
            ("credit manager", manager, f"/accounts/{loaded['sample_buyer']}"),
            ("credit manager", manager, "/portfolio"),
            ("credit manager", manager, "/inbox?all=1"),
            ("credit manager", manager, "/search?q=rhein+bau"),
            ("credit manager", manager, "/search?q=B0999"),
            ("credit manager", manager, "/imports/limits"),
            ("sales", sales, "/inbox"),
            ("sales", sales, "/referrals?mine=1"),
        ]
        print(f"\n{arguments.buyers:,} buyers; each page {arguments.samples} times, one request at a time (seconds)")
        print(f"{'who':<15} {'page':<42} {'p50':>7} {'p95':>7} {'max':>7} {'first':>7}")
        for who, client, path in pages:
            # The first view pays for first-use imports and connections (and, on /portfolio, for
            # limits computing the figures before the console has them); it is shown apart.
            first = (await measure(client, path, 1))[0]
            await measure(client, path, 1)
            times = await measure(client, path, arguments.samples)
            print(f"{who:<15} {path:<42} {percentile(times, 0.5):7.3f} {percentile(times, 0.95):7.3f} {max(times):7.3f} {first:7.3f}")
        print("\nthe services' answers behind them (credit manager through the console's key would add nothing measurable)")
        key = {"Authorization": f"Bearer {system.keys['credit_manager']}"}
        calls = [
            ("limits", "GET", "/v1/portfolio", None),
            ("limits", "GET", "/v1/forecast/cash-in", None),
            ("scoring", "GET", "/v1/buyers?sort=-pd&limit=15", None),
            ("scoring", "GET", "/v1/buyer-ids?country=DE", None),
            ("limits", "POST", "/v1/credit-checks/search", {"limit": 25}),
            ("alerts", "GET", "/v1/alerts?unresolved=true", None),
        ]
        async with httpx.AsyncClient(timeout=30) as client:
            for service, method, path, body in calls:
                times = []
                for _ in range(arguments.samples // 2 or 1):
                    begun = time.perf_counter()
                    await client.request(method, system.services[service].base_url + path, headers=key, json=body)
                    times.append(time.perf_counter() - begun)
                print(f"{service:<15} {method + ' ' + path:<42} {percentile(times, 0.5):7.3f} {percentile(times, 0.95):7.3f} {max(times):7.3f}")
        started = time.perf_counter()
        export = await manager.get("/referrals.csv")
        print(f"{'credit manager':<15} {'/referrals.csv (whole queue)':<42} {time.perf_counter() - started:7.3f} ({export.text.count(chr(10)) - 1} rows)")
        await manager.aclose()
        await sales.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--samples", type=int, default=40)
    arguments = parser.parse_args()
    # The system's processes are started and stopped outside the event loop that drives them.
    with tempfile.TemporaryDirectory(prefix="cg-console-bench-") as tmp, local_system(Path(tmp), console=True) as system:
        asyncio.run(bench(system, arguments, Path(tmp)))


if __name__ == "__main__":
    main()
