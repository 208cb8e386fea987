"""One buyer on one screen: profile and score from scoring, limit, exposure, invoices, decisions and
audit from limits, alerts and collection cases from alerts, read side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from creditguard_console.models.people import Person
from creditguard_console.upstream.client import Upstream
from creditguard_shared.errors import NotFound

T = TypeVar("T")


async def _or_none(call: Awaitable[T]) -> T | None:
    """A buyer known to one service may be unknown to another (no limit yet, never scored)."""
    try:
        return await call
    except NotFound:
        return None


@dataclass(frozen=True)
class Account:
    buyer_id: str
    profile: dict[str, Any] | None
    score: dict[str, Any] | None
    grade_history: list[dict[str, Any]]
    limit: dict[str, Any] | None
    exposure: dict[str, Any] | None
    invoices: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    pending_checks: list[dict[str, Any]]
    past_checks: list[dict[str, Any]]
    audit: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return (self.profile or {}).get("name") or self.buyer_id


async def load(upstream: Upstream, *, person: Person, buyer_id: str) -> Account:
    def reader(service: str) -> Callable[..., Awaitable[Any]]:
        def read(path: str, **params: Any) -> Awaitable[Any]:
            return upstream.get(service, path, person=person, params=params or None)

        return read

    scoring, limits, alerts = reader("scoring"), reader("limits"), reader("alerts")

    def checks(state: str, limit: int) -> Awaitable[dict[str, Any]]:
        return upstream.post(
            "limits", "/v1/credit-checks/search", person=person, json={"state": state, "buyer_ids": [buyer_id], "sort": "-created_at", "limit": limit}
        )

    (profile, score, history, limit, exposure, invoices, alert_page, case_page, pending, decided, audit) = await asyncio.gather(
        _or_none(scoring(f"/v1/buyers/{buyer_id}")),
        _or_none(scoring(f"/v1/buyers/{buyer_id}/score")),
        _or_none(scoring(f"/v1/buyers/{buyer_id}/assessments", limit=12)),
        _or_none(limits(f"/v1/buyers/{buyer_id}/limit")),
        _or_none(limits(f"/v1/buyers/{buyer_id}/exposure")),
        _or_none(limits(f"/v1/buyers/{buyer_id}/invoices", open_only="true")),
        alerts("/v1/alerts", buyer_id=buyer_id, limit=50),
        alerts("/v1/collections/cases", buyer_id=buyer_id, status="open", limit=20),
        checks("pending", 50),
        checks("decided", 20),
        _or_none(limits(f"/v1/buyers/{buyer_id}/limit/audit")),
    )
    if profile is None and limit is None and exposure is None:
        raise NotFound(f"No buyer {buyer_id} in scoring or limits.")
    cases = await asyncio.gather(*(alerts(f"/v1/collections/cases/{c['id']}") for c in case_page["items"]))
    return Account(
        buyer_id=buyer_id,
        profile=profile,
        score=score,
        grade_history=list(reversed((history or {}).get("items", []))),
        limit=limit,
        exposure=exposure,
        invoices=invoices or [],
        alerts=alert_page["items"],
        cases=list(cases),
        pending_checks=pending["items"],
        past_checks=decided["items"],
        audit=sorted(audit or [], key=lambda a: a["changed_at"], reverse=True)[:30],
    )


async def set_limit(
    upstream: Upstream, *, person: Person, buyer_id: str, amount: str, currency: str, terms_days: int, review_on: date | None, reason: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "currency": currency, "payment_terms_days": terms_days, "reason": reason}
    if review_on:
        body["review_on"] = review_on.isoformat()
    answer: dict[str, Any] = await upstream.put("limits", f"/v1/buyers/{buyer_id}/limit", person=person, json=body)
    return answer


async def add_temporary_increase(
    upstream: Upstream, *, person: Person, buyer_id: str, amount: str, valid_from: date, valid_until: date, reason: str
) -> dict[str, Any]:
    answer: dict[str, Any] = await upstream.post(
        "limits",
        f"/v1/buyers/{buyer_id}/temporary-increases",
        person=person,
        json={"amount": amount, "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat(), "reason": reason},
    )
    return answer


async def set_status(upstream: Upstream, *, person: Person, buyer_id: str, status: str, reason: str) -> dict[str, Any]:
    answer: dict[str, Any] = await upstream.put("limits", f"/v1/buyers/{buyer_id}/status", person=person, json={"status": status, "reason": reason})
    return answer


async def record_promise(upstream: Upstream, *, person: Person, case_id: str, promised_on: date, amount: str | None, comment: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "promise_to_pay", "promised_on": promised_on.isoformat(), "comment": comment or None}
    if amount:
        body["promised_amount"] = amount
    answer: dict[str, Any] = await upstream.post("alerts", f"/v1/collections/cases/{case_id}/actions", person=person, json=body)
    return answer


async def acknowledge_alert(upstream: Upstream, *, person: Person, alert_id: str, comment: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = await upstream.post("alerts", f"/v1/alerts/{alert_id}/ack", person=person, json={"comment": comment or None})
    return answer
