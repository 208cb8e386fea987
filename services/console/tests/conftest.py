"""The console on a fresh database (SQLite and PostgreSQL) over the three services, all in-process
on their own databases with the real broker; the console reaches them through ASGI transports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from creditguard_console.app import create_app
from creditguard_console.people import service as people
from creditguard_local.stack import free_port
from creditguard_shared.clock import Clock
from tests.fixtures.services import RunningService, console_settings, migrate

PASSWORD = "correct horse battery"
PEOPLE = {
    "credit_manager": ("Carla Credit", "carla@desk.test"),
    "sales": ("Sam Sales", "sam@desk.test"),
    "admin": ("Ada Admin", "ada@desk.test"),
    "read_only": ("Rita Reader", "rita@desk.test"),
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Desk:
    console: Any
    client: httpx.AsyncClient
    scoring: RunningService
    limits: RunningService
    alerts: RunningService

    def browser(self) -> httpx.AsyncClient:
        """A fresh browser: its own cookie jar."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.console), base_url="http://console.test", headers={"Accept": "text/html"})


async def sign_in(client: httpx.AsyncClient, role: str, *, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"email": PEOPLE[role][1], "password": password, "csrf_token": csrf_of(form.text)})


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found is not None, f"no CSRF token in the page: {html[:500]}"
    return found.group(1)


async def _console(database_url: str, *, api_key: str, transports: dict[str, httpx.AsyncBaseTransport] | None):
    await migrate("console", database_url)
    # Without transports, the services' URLs are ports nothing listens on.
    nowhere = {name: f"http://127.0.0.1:{free_port()}" for name in ("scoring", "limits", "alerts")}
    return create_app(console_settings(database_url, api_key=api_key, service_urls=nowhere), clock=Clock(), transports=transports)


async def _add_people(app) -> None:
    context = app.state.console
    async with context.session_factory() as session:
        for role, (name, email) in PEOPLE.items():
            await people.create_person(session, email=email, name=name, role=role, password=PASSWORD, now=context.clock.now())
        await session.commit()


@pytest.fixture
async def console(databases, api_keys):
    """The console alone (sign-in, sessions): no service behind it."""
    app = await _console(await databases.create("console"), api_key=api_keys["console"], transports=None)
    async with app.router.lifespan_context(app):
        await _add_people(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test", headers={"Accept": "text/html"}) as client:
            yield Desk(console=app, client=client, scoring=None, limits=None, alerts=None)


async def _desk(start_service, databases, broker, api_keys, *, alerts_consuming: bool):
    scoring = await start_service(
        "scoring", database_url=await databases.create("scoring"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False
    )
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)
    alerts = await start_service(
        "alerts",
        database_url=await databases.create("alerts"),
        bootstrap_servers=broker.bootstrap_servers,
        sweep_interval_seconds=3600,
        consumers_enabled=alerts_consuming,
    )
    transports: dict[str, httpx.AsyncBaseTransport] = {s.name: httpx.ASGITransport(app=s.app) for s in (scoring, limits, alerts)}
    app = await _console(await databases.create("console"), api_key=api_keys["console"], transports=transports)
    async with app.router.lifespan_context(app):
        await _add_people(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test", headers={"Accept": "text/html"}) as client:
            yield Desk(console=app, client=client, scoring=scoring, limits=limits, alerts=alerts)


@pytest.fixture
async def desk(broker, start_service, databases, api_keys):
    # The broker is asked for first so it stops last: services stopping after it wait seconds on
    # their Kafka clients. Consumers stay off: group joins cost seconds, and these read no events.
    async for running in _desk(start_service, databases, broker, api_keys, alerts_consuming=False):
        yield running


@pytest.fixture
async def desk_with_events(broker, start_service, databases, api_keys):
    """Alerts consumes scoring's and limits' events (account owners, holds): for the inbox."""
    async for running in _desk(start_service, databases, broker, api_keys, alerts_consuming=True):
        yield running


async def register_buyer(scoring: RunningService, buyer_id: str, *, name: str, owner: str | None, country: str = "DE") -> None:
    response = await scoring.client.put(
        f"/v1/buyers/{buyer_id}", headers=scoring.auth("credit_manager"), json={"name": name, "country": country, "industry": "C", "account_owner": owner}
    )
    assert response.status_code in (200, 201), response.text


async def set_limit(limits: RunningService, buyer_id: str, amount: str) -> None:
    response = await limits.client.put(
        f"/v1/buyers/{buyer_id}/limit",
        headers=limits.auth("credit_manager"),
        json={"amount": amount, "currency": "EUR", "payment_terms_days": 30, "reason": "annual review"},
    )
    assert response.status_code == 200, response.text


async def order(limits: RunningService, buyer_id: str, order_id: str, amount: str) -> dict:
    response = await limits.client.post(
        "/v1/credit-checks",
        headers=limits.auth("erp"),
        json={"buyer_id": buyer_id, "order_id": order_id, "amount": amount, "currency": "EUR", "payment_terms_days": 30},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()
