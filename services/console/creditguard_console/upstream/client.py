"""The three services' REST APIs, called with the console's key on behalf of the signed-in person
(X-Acting-User / X-Acting-Role), so each service checks that person's role and records their name."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from creditguard_console.metrics import ConsoleMetrics
from creditguard_console.models.people import Person
from creditguard_shared.auth.dependencies import ACTING_ROLE_HEADER, ACTING_USER_HEADER
from creditguard_shared.errors import Conflict, DomainError, Forbidden, NotFound, ServiceUnavailable, Unprocessable
from creditguard_shared.observability import CORRELATION_HEADER, correlation_id_var

SERVICES = ("scoring", "limits", "alerts")


class Upstream:
    def __init__(
        self,
        *,
        urls: dict[str, str],
        api_key: str,
        timeout: float,
        metrics: ConsoleMetrics,
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        """``transports`` replaces the network for a service (tests run the services in-process)."""
        self.metrics = metrics
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self.clients = {
            name: httpx.AsyncClient(
                base_url=urls[name], timeout=timeout, limits=limits, headers={"Authorization": f"Bearer {api_key}"}, transport=(transports or {}).get(name)
            )
            for name in SERVICES
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def get(self, service: str, path: str, *, person: Person, params: Any = None) -> Any:
        return await self.request(service, "GET", path, person=person, params=params)

    async def post(self, service: str, path: str, *, person: Person, json: Any = None) -> Any:
        return await self.request(service, "POST", path, person=person, json=json)

    async def put(self, service: str, path: str, *, person: Person, json: Any = None) -> Any:
        return await self.request(service, "PUT", path, person=person, json=json)

    async def request(self, service: str, method: str, path: str, *, person: Person, params: Any = None, json: Any = None) -> Any:
        headers = {
            # Header values are Latin-1; a name is any Unicode, so it travels percent-encoded.
            ACTING_USER_HEADER: quote(person.name, safe=" "),
            ACTING_ROLE_HEADER: person.role,
            CORRELATION_HEADER: correlation_id_var.get() or "",
        }
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self.clients[service].request(method, path, params=params, json=json, headers=headers)
            outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The {service} service did not answer ({exc.__class__.__name__}); try again shortly.") from exc
        finally:
            self.metrics.upstream_duration.labels(self.metrics.service, service, method, outcome).observe(time.perf_counter() - started)
        if response.is_success:
            return response.json()
        raise _error(service, response)


def _error(service: str, response: httpx.Response) -> DomainError:
    try:
        body = response.json()
        detail = body.get("detail") if isinstance(body, dict) else None
    except ValueError:
        detail = None
    detail = detail or f"The {service} service answered {response.status_code}."
    if response.status_code == 404:
        return NotFound(detail)
    if response.status_code == 409:
        return Conflict(detail)
    if response.status_code in (400, 422):
        return Unprocessable(detail)
    if response.status_code == 403:
        return Forbidden(detail)
    if response.status_code == 401:
        return ServiceUnavailable(f"The {service} service refused the console's API key; check CONSOLE_API_KEY.")
    return ServiceUnavailable(detail)
