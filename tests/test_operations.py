"""A real Prometheus scrapes the three running services and the console while a scenario drives
them; then every dashboard panel's query must return data and every alerting rule must evaluate
without error."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from creditguard_local.stack import LocalSystem, local_system
from tests.kafka_tools import publish_raw
from tests.prometheus_server import ROOT, PrometheusServer

pytestmark = pytest.mark.e2e


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


@pytest.fixture
def running_system(tmp_path: Path) -> Iterator[LocalSystem]:
    with local_system(tmp_path, extra_env={"ALERTS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}, console=True) as system:
        yield system


async def _console_page(system: LocalSystem, path: str, *, wrong_password_first: bool = False) -> None:
    """Sign in to the console as the credit manager and open a page (the console's panels)."""
    person = system.people["credit_manager"]
    async with httpx.AsyncClient(base_url=system.services["console"].base_url, timeout=15) as console:
        for password in (["not the password"] if wrong_password_first else []) + [person["password"]]:
            form = await console.get("/login")
            found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert found is not None, form.text
            token = found.group(1)
            await console.post("/login", data={"email": person["email"], "password": password, "csrf_token": token})
        page = await console.get(path)
        assert page.status_code == 200, page.text


def _dashboard_queries() -> list[tuple[str, str, str]]:
    queries: list[tuple[str, str, str]] = []
    for path in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            # Grafana fills $__rate_interval in; a one-minute window holds many 1 s scrapes here.
            queries.extend((path.stem, panel["title"], target["expr"].replace("$__rate_interval", "1m")) for target in panel.get("targets", []))
    return queries


async def _drive_scenario(system: LocalSystem, receiver_url: str) -> None:
    admin = system.auth("admin")
    scoring, limits, alerts = (system.services[n].base_url for n in ("scoring", "limits", "alerts"))
    buyer = f"B-OPS-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=15, headers=admin) as http:

        async def ok(response: httpx.Response) -> dict:
            assert response.status_code < 300, (response.request.url, response.status_code, response.text)
            return response.json()

        await ok(
            await http.post(
                f"{alerts}/v1/webhooks/subscriptions",
                json={
                    "url": receiver_url,
                    "event_types": ["alert.raised", "alert.escalated", "alert.resolved", "collection.level_changed", "account.status_changed"],
                },
            )
        )
        await ok(
            await http.put(
                f"{scoring}/v1/buyers/{buyer}",
                json={
                    "name": "Ops Test GmbH",
                    "country": "DE",
                    "industry": "C",
                    "legal_form": "GmbH",
                    "founded_on": "2001-05-01",
                    "account_owner": "sales.ops@example.com",
                },
            )
        )
        await ok(
            await http.put(
                f"{limits}/v1/buyers/{buyer}/limit",
                json={"amount": "100000.00", "currency": "EUR", "payment_terms_days": 60, "review_on": "2027-06-30", "reason": "operations test"},
            )
        )
        await ok(
            await http.post(
                f"{limits}/v1/credit-checks",
                json={"buyer_id": buyer, "order_id": f"{buyer}-SO1", "amount": "20000.00", "currency": "EUR", "payment_terms_days": 30},
            )
        )
        await ok(
            await http.post(
                f"{limits}/v1/credit-checks",
                json={"buyer_id": f"B-UNKNOWN-{uuid.uuid4().hex[:6]}", "order_id": "SO-X", "amount": "90000.00", "currency": "EUR", "payment_terms_days": 30},
            )
        )
        # An invoice already past due: the aging sweep reports it late, alerts raise and call the webhook.
        # (A few days past due: one posted months after its due date is history, which alerts judge
        # only once its payments had a day to follow.)
        due_on = datetime.now(UTC).date() - timedelta(days=3)
        await ok(
            await http.post(
                f"{limits}/v1/invoices",
                json={
                    "invoice_id": f"{buyer}-INV1",
                    "buyer_id": buyer,
                    "order_id": f"{buyer}-SO1",
                    "amount": "20000.00",
                    "currency": "EUR",
                    "issued_on": (due_on - timedelta(days=30)).isoformat(),
                    "due_on": due_on.isoformat(),
                },
            )
        )
        await http.get(f"{limits}/v1/nothing-here")  # a 404 for the client-error panel
        await _console_page(system, f"/accounts/{buyer}", wrong_password_first=True)
        await publish_raw(system.broker.bootstrap_servers, "invoice-posted", [(buyer.encode(), b"not an event", [])])

        for _ in range(60):
            await ok(await http.post(f"{limits}/v1/sweeps/daily"))
            await ok(await http.post(f"{limits}/v1/portfolio/metrics/refresh"))
            await ok(await http.post(f"{alerts}/v1/alerts/sweep"))
            await ok(await http.post(f"{alerts}/v1/webhooks/dispatch"))
            cases = await ok(await http.get(f"{alerts}/v1/collections/cases"))
            if _Receiver.received and cases.get("items"):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"scenario incomplete: {len(_Receiver.received)} webhooks received")


async def test_every_dashboard_query_and_alert_rule_works_against_real_prometheus(running_system, webhook_receiver, tmp_path, eventually):
    services = running_system.services
    await _drive_scenario(running_system, webhook_receiver)
    prometheus = PrometheusServer(directory=tmp_path, targets={f"creditguard-{n}": f"127.0.0.1:{p.port}" for n, p in services.items()})
    prometheus.start()
    try:

        async def scraped_enough():
            assert prometheus.target_health() == {f"creditguard-{n}": "up" for n in services}
            # rate() needs two samples in its window, and the rules need a few evaluations.
            assert min(float(r["value"][1]) for r in prometheus.query("count_over_time(up[1m])")) >= 5

        await eventually(scraped_enough, timeout=60, interval=1)
        async with httpx.AsyncClient(headers=running_system.auth("sales")) as http:
            for _ in range(3):  # fresh traffic inside the rate windows
                await http.get(f"{services['limits'].base_url}/v1/buyers/B-1/invoices")
                await _console_page(running_system, "/referrals")
                await asyncio.sleep(1)

        async def every_query_returns_data():
            empty = [(dashboard, title, expr) for dashboard, title, expr in _dashboard_queries() if not prometheus.query(expr)]
            assert not empty, "dashboard queries without data:\n" + "\n".join(f"{d} / {t}: {e}" for d, t, e in empty)

        await eventually(every_query_returns_data, timeout=30, interval=2)

        async def rules_evaluate():
            rules = prometheus.rules()
            assert len(rules) == 11
            broken = [(r["name"], r.get("health"), r.get("lastError")) for r in rules if r.get("health") != "ok" or r.get("lastError")]
            assert not broken, broken

        await eventually(rules_evaluate, timeout=30, interval=1)
    finally:
        prometheus.stop()
