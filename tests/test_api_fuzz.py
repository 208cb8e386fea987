"""Every operation of every service's OpenAPI document, fuzzed with schemathesis: data that fits
the document (positive) and data that breaks it (negative), sent with an admin key (admin passes
every role check) to the services running in-process on a real database with the real broker.
No answer may be a 5xx, and every answer must be one the document describes: a listed status,
its content type, a body matching its schema, its headers.

Deterministic: hypothesis is derandomised and keeps no example database, so a run is reproducible
and CI sees what a developer sees. ``CREDITGUARD_FUZZ_EXAMPLES`` (default 4) bounds the examples per
operation and mode; the suite's run fuzzes every operation on SQLite and the operations that write
(POST, PUT, PATCH, DELETE) on PostgreSQL, where the reads would double its time. Setting the
variable to hunt (``CREDITGUARD_FUZZ_EXAMPLES=2000``, see docs/api-conventions.md) fuzzes every
operation on both. The console's document lists only its health routes, which are fuzzed too; its
pages are HTML forms behind a signed-in session and a CSRF token, outside the document, and are
left to its own tests.

A little data is seeded first (a buyer with a limit, an invoice, a payment, a credit check, a
group, an insurance policy, an alert, a collection case, a webhook subscription), and about half the
examples of an operation with path parameters name what was seeded, so reads and writes of things
that exist are fuzzed too, not only 404s. Webhook deliveries go to a Unix socket nobody listens on
and webhook host names are resolved only when they are IP literals or ``localhost``, so nothing a
fuzzed subscription names is ever reached."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from creditguard_local.stack import free_port
from creditguard_shared.clock import Clock
from creditguard_shared.events.contracts import BuyerAssessedV1, InvoicePostedV1, PaymentLateV1
from creditguard_shared.events.envelope import new_event
from tests.fixtures.services import RunningService, console_settings, migrate

EXAMPLES = int(os.environ.get("CREDITGUARD_FUZZ_EXAMPLES", "4"))
# The suite's run fuzzes reads on SQLite only (PostgreSQL would double its time); a hunt with more examples fuzzes everything on both.
READS_ON_POSTGRESQL = "CREDITGUARD_FUZZ_EXAMPLES" in os.environ
# A part of "<service> <METHOD> <path>" to fuzz only the operations that contain it, e.g. "limits POST /v1/payments".
ONLY = os.environ.get("CREDITGUARD_FUZZ_ONLY", "")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]
TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BUYER, INVOICE, GROUP, POLICY = "B-FUZZ-1", "I-FUZZ-1", "G-FUZZ-1", "POL-FUZZ-1"


def offline_resolver(loop: asyncio.AbstractEventLoop) -> Callable:
    """getaddrinfo that never asks a name server: IP literals and localhost only."""
    resolve = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("localhost", b"localhost"):
            return await resolve("127.0.0.1", port, *args, **kwargs)
        return await resolve(host, port, *args, **{**kwargs, "flags": kwargs.get("flags", 0) | socket.AI_NUMERICHOST})

    return getaddrinfo


@pytest.fixture
async def nothing_leaves_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from creditguard_alerts import jobs

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", offline_resolver(asyncio.get_running_loop()))
    nowhere = str(tmp_path / "no-receiver.sock")
    monkeypatch.setattr(
        jobs, "webhook_client", lambda *, context: aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=nowhere), timeout=aiohttp.ClientTimeout(total=1))
    )


async def _ok(response: httpx.Response) -> dict:
    assert response.status_code < 300, response.text
    return response.json()


async def seed_scoring(scoring: RunningService) -> dict[str, str]:
    admin = scoring.auth("admin")
    await _ok(await scoring.client.put(f"/v1/buyers/{BUYER}", headers=admin, json={"name": "Fuzz GmbH", "country": "DE", "industry": "C"}))
    await _ok(await scoring.client.post(f"/v1/buyers/{BUYER}/assessments", headers=admin, json={}))
    return {"buyer_id": BUYER}


async def seed_limits(limits: RunningService) -> dict[str, str]:
    admin = limits.auth("admin")
    await _ok(
        await limits.client.put(
            f"/v1/buyers/{BUYER}/limit", headers=admin, json={"amount": "50000.00", "currency": "EUR", "payment_terms_days": 30, "reason": "seed"}
        )
    )
    await _ok(await limits.client.put(f"/v1/groups/{GROUP}/limit", headers=admin, json={"amount": "90000.00", "currency": "EUR", "reason": "seed"}))
    await _ok(await limits.client.put(f"/v1/buyers/{BUYER}/group", headers=admin, json={"group_id": GROUP, "reason": "seed"}))
    await _ok(
        await limits.client.put(
            f"/v1/insurance/policies/{POLICY}",
            headers=admin,
            json={
                "insurer": "Fuzz Re",
                "indemnity_percentage": 90,
                "max_credit_period_days": 120,
                "report_overdue_within_days": 60,
                "file_claim_within_days": 180,
            },
        )
    )
    await _ok(
        await limits.client.post(
            "/v1/invoices",
            headers=admin,
            json={"invoice_id": INVOICE, "buyer_id": BUYER, "amount": "1000.00", "currency": "EUR", "issued_on": "2026-11-01", "due_on": "2026-11-20"},
        )
    )
    await _ok(
        await limits.client.post(
            "/v1/payments",
            headers=admin,
            json={"payment_id": "P-FUZZ-1", "buyer_id": BUYER, "invoice_id": INVOICE, "amount": "100.00", "currency": "EUR", "paid_on": "2026-11-21"},
        )
    )
    check = await _ok(
        await limits.client.post(
            "/v1/credit-checks",
            headers=admin,
            json={"buyer_id": BUYER, "order_id": "O-FUZZ-1", "amount": "60000.00", "currency": "EUR", "payment_terms_days": 30},
        )
    )
    increase = await _ok(
        await limits.client.post(
            f"/v1/buyers/{BUYER}/temporary-increases",
            headers=admin,
            json={"amount": "5000.00", "valid_from": "2026-12-01", "valid_until": "2026-12-31", "reason": "seed"},
        )
    )
    return {
        "buyer_id": BUYER,
        "invoice_id": INVOICE,
        "group_id": GROUP,
        "policy_id": POLICY,
        "order_id": "O-FUZZ-1",
        "check_id": str(check["id"]),
        "increase_id": increase["increase_id"],
        "currency": "EUR",
    }


async def seed_alerts(alerts: RunningService) -> dict[str, str]:
    """As if scoring and limits had published: a known buyer with a late invoice, so a collection
    case and an alert exist (the handlers are called directly: consumers would cost a group join)."""
    from creditguard_alerts.collection_cases import handlers as receivables
    from creditguard_alerts.early_warning import handlers as alerting

    handlers = {s.topic: s.handler for s in alerting.subscriptions(alerts.app.state.alerts) + receivables.subscriptions(alerts.app.state.alerts)}
    events = [
        (
            "buyer-assessed",
            BuyerAssessedV1(
                buyer_id=BUYER,
                assessment_id="A-FUZZ-1",
                assessed_at=datetime(2026, 11, 1, tzinfo=UTC),
                model_version="seed",
                pd=0.2,
                grade=8,
                risk_class="high",
                name="Fuzz GmbH",
                country="DE",
                industry="C",
                account_owner="anna.sales",
                financial_data_missing=False,
            ),
        ),
        (
            "invoice-posted",
            InvoicePostedV1(
                invoice_id=INVOICE, buyer_id=BUYER, amount=Decimal("1000.00"), currency="EUR", issued_on=date(2026, 10, 1), due_on=date(2026, 10, 31)
            ),
        ),
        (
            "payment-late",
            PaymentLateV1(
                invoice_id=INVOICE,
                buyer_id=BUYER,
                days_past_due=31,
                bucket=30,
                open_amount=Decimal("1000.00"),
                currency="EUR",
                due_on=date(2026, 10, 31),
                as_of=date(2026, 12, 1),
            ),
        ),
    ]
    for topic, payload in events:
        async with alerts.runtime.uow_factory() as uow:
            await handlers[topic](uow, payload, new_event(source="/creditguard/seed", payload=payload, subject=BUYER))
            await uow.commit()
    admin = alerts.auth("admin")
    seeded: dict[str, str] = {"buyer_id": BUYER, "strategy_id": "standard"}
    alert_page = await _ok(await alerts.client.get("/v1/alerts", headers=admin))
    case_page = await _ok(await alerts.client.get("/v1/collections/cases", headers=admin))
    rules = await _ok(await alerts.client.get("/v1/alert-rules", headers=admin))
    subscription = await _ok(
        await alerts.client.post(
            "/v1/webhooks/subscriptions", headers=admin, json={"url": f"http://127.0.0.1:{free_port()}/hooks", "event_types": ["alert.raised"]}
        )
    )
    seeded["subscription_id"] = subscription["id"]
    seeded["rule_id"] = str(rules[0]["id"])
    if alert_page["items"]:
        seeded["alert_id"] = str(alert_page["items"][0]["id"])
    if case_page["items"]:
        seeded["case_id"] = str(case_page["items"][0]["id"])
    return seeded


@contextlib.asynccontextmanager
async def console_over(*services: RunningService, database_url: str, api_key: str) -> AsyncIterator[RunningService]:
    """The console in front of the three running services, reaching them in-process."""
    from creditguard_console.app import create_app

    await migrate("console", database_url)
    url = {service.name: f"http://{service.name}.test" for service in services}
    settings = console_settings(database_url, api_key=api_key, service_urls=url)
    app = create_app(settings, clock=Clock(), transports={service.name: httpx.ASGITransport(app=service.app) for service in services})
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as client:
        yield RunningService(name="console", app=app, client=client, api_keys={"admin": api_key}, clock=app.state.clock)


def _ascii(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("ascii")


class Fuzzer:
    """Runs hypothesis in a worker thread; each request goes back to the test's event loop, where
    the apps and their database connections live, through the in-process ASGI client."""

    def __init__(self, service: RunningService, document: dict, seeded: dict[str, str], loop: asyncio.AbstractEventLoop) -> None:
        self.service = service
        self.schema = schemathesis.openapi.from_dict(document)
        self.seeded = seeded
        self.loop = loop
        self.headers = service.auth("admin")
        # A 500 comes back as the answer a client gets, for not_a_server_error to report with its curl line.
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app, raise_app_exceptions=False), base_url=service.client.base_url)

    def send(self, case: schemathesis.Case) -> httpx.Response:
        # requests prepares exactly what schemathesis would put on the wire (encoding, query, body).
        kwargs = case.as_transport_kwargs(base_url=str(self.client.base_url), headers=self.headers)
        kwargs.pop("auth", None)
        prepared = requests.Request(**kwargs).prepare()
        assert prepared.method is not None and prepared.url is not None
        # requests leaves a body as it was given (text or bytes); it streams nothing here.
        body = prepared.body
        assert body is None or isinstance(body, str | bytes), type(body)
        # As bytes, the way httpx encodes the names and values it is given (ASCII).
        headers = [(_ascii(name), _ascii(value)) for name, value in prepared.headers.items()]
        request = self.client.request(prepared.method, prepared.url, headers=headers, content=body)
        return asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)

    def strategy(self, operation: Any, mode: GenerationMode) -> st.SearchStrategy:
        generated = operation.as_strategy(generation_mode=mode)
        names = [p.name for p in operation.path_parameters]
        known = {name: self.seeded[name] for name in names if name in self.seeded}
        if not names or len(known) != len(names):
            return generated
        return st.one_of(generated, operation.as_strategy(generation_mode=mode, path_parameters=known))

    def run(self, operation: Any, mode: GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=self.strategy(operation, mode))
        def fuzz(case: schemathesis.Case) -> None:
            case.validate_response(self.send(case), checks=CHECKS, headers=self.headers)

        fuzz()

    def operations(self) -> list[Any]:
        operations = []
        for result in self.schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operations.append(result.ok())
        return operations


def fuzz_everything(fuzzers: list[Fuzzer], *, reads: bool) -> list[str]:
    failures = []
    for fuzzer in fuzzers:
        for operation in fuzzer.operations():
            if ONLY and ONLY not in f"{fuzzer.service.name} {operation.label}":
                continue
            if operation.method.upper() == "GET" and not reads:
                continue
            # Nothing to break in an operation that takes no input.
            takes_input = bool(list(operation.iter_parameters())) or bool(operation.body)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (GenerationMode.POSITIVE,):
                try:
                    fuzzer.run(operation, mode)
                # schemathesis reports its check failures as a BaseExceptionGroup.
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is fuzzed, then all failures are reported
                    failures.append(f"{fuzzer.service.name} {operation.label} ({mode.value}): {exc}")
    return failures


async def test_no_operation_answers_a_5xx_or_outside_its_document(nothing_leaves_the_machine, broker, start_service, databases, api_keys):
    # No consumers (a group join costs seconds, and the fuzzer drives the REST API); a commit wakes
    # the outbox relay, so it need not poll ten times a second against the fuzzer for the CPU.
    quiet = {"bootstrap_servers": broker.bootstrap_servers, "consumers_enabled": False, "outbox_poll_interval_seconds": 5.0}
    scoring = await start_service("scoring", database_url=await databases.create("scoring"), **quiet)
    limits = await start_service("limits", database_url=await databases.create("limits"), clock=Clock(fixed=TODAY), **quiet)
    alerts = await start_service(
        "alerts",
        database_url=await databases.create("alerts"),
        clock=Clock(fixed=TODAY),
        **quiet,
        sweep_interval_seconds=3600,
        webhook_allowed_networks="127.0.0.0/8",
    )
    seeded = {"scoring": await seed_scoring(scoring), "limits": await seed_limits(limits), "alerts": await seed_alerts(alerts)}
    async with console_over(scoring, limits, alerts, database_url=await databases.create("console"), api_key=api_keys["console"]) as console:
        loop = asyncio.get_running_loop()
        fuzzers = []
        for service in (scoring, limits, alerts, console):
            document = (await service.client.get("/openapi.json")).json()
            fuzzers.append(Fuzzer(service, document, seeded.get(service.name, {}), loop))
        try:
            failures = await asyncio.to_thread(fuzz_everything, fuzzers, reads=databases.backend == "sqlite" or READS_ON_POSTGRESQL)
        finally:
            for fuzzer in fuzzers:
                await fuzzer.client.aclose()
    assert not failures, "\n\n".join(failures)
