"""The referral queue: pending checks from limits, their buyers from scoring. Filters on the
buyer (owner, country, grade) are answered by scoring as a set of ids that limits then filters on,
so paging and counts stay exact however long the queue."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from creditguard_console.models.people import Person
from creditguard_console.referrals.schemas import QueueFilters, QueuePage, QueueRow
from creditguard_console.upstream.client import Upstream

# The policy's reason codes a referral can carry; offered as the queue's reason filter.
REASON_CODES = (
    "limit_exceeded",
    "no_limit",
    "unknown_buyer",
    "group_limit_exceeded",
    "single_order_above_maximum",
    "terms_above_maximum",
    "overdue_amount",
    "overdue_days",
    "overdue_beyond_usual",
    "account_on_hold",
    "account_blocked",
    "grade_risk",
    "review_overdue",
    "negative_contribution",
    "no_economic_capacity",
    "contribution_needs_cover",
    "no_insurance_cover",
    "uninsured_exposure",
    "terms_beyond_insured_period",
)


async def buyers_by_id(upstream: Upstream, *, person: Person, buyer_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not buyer_ids:
        return {}
    page = await upstream.get("scoring", "/v1/buyers", person=person, params={"buyer_id": buyer_ids, "limit": len(buyer_ids)})
    return {b["buyer_id"]: b for b in page["items"]}


async def matching_buyer_ids(upstream: Upstream, *, person: Person, filters: QueueFilters) -> list[str] | None:
    owner = person.email if filters.mine else filters.owner
    if owner is None and filters.country is None and filters.grade is None:
        return None
    params = {k: v for k, v in (("account_owner", owner), ("country", filters.country), ("grade", filters.grade)) if v is not None}
    buyer_ids: list[str] = (await upstream.get("scoring", "/v1/buyer-ids", person=person, params=params))["buyer_ids"]
    return buyer_ids


async def queue(upstream: Upstream, *, person: Person, filters: QueueFilters, now: datetime) -> QueuePage:
    buyer_ids = await matching_buyer_ids(upstream, person=person, filters=filters)
    if buyer_ids == []:
        return QueuePage(rows=[], total=0, filters=filters)
    search: dict[str, Any] = {
        "state": "pending",
        "buyer_ids": buyer_ids,
        "reason": filters.reason,
        "sort": filters.sort,
        "limit": filters.per_page,
        "offset": (filters.page - 1) * filters.per_page,
    }
    page = await upstream.post("limits", "/v1/credit-checks/search", person=person, json=search)
    buyers = await buyers_by_id(upstream, person=person, buyer_ids=sorted({c["buyer_id"] for c in page["items"]}))
    rows = [
        QueueRow(check=c, buyer=buyers.get(c["buyer_id"]), age_hours=(now - datetime.fromisoformat(c["created_at"])).total_seconds() / 3600)
        for c in page["items"]
    ]
    return QueuePage(rows=rows, total=page["total"], filters=filters)


async def whole_queue(upstream: Upstream, *, person: Person, filters: QueueFilters, now: datetime, cap: int) -> list[QueueRow]:
    """Every row the filters match (up to ``cap``), for the CSV export: pages of 200 read together."""
    first = await queue(upstream, person=person, filters=filters.model_copy(update={"page": 1, "per_page": 200}), now=now)
    pages = range(2, min(first.pages, -(-cap // 200)) + 1)
    rest = await asyncio.gather(*(queue(upstream, person=person, filters=filters.model_copy(update={"page": p, "per_page": 200}), now=now) for p in pages))
    return [row for page in (first, *rest) for row in page.rows][:cap]


async def decide(upstream: Upstream, *, person: Person, check_id: str, decision: str, comment: str) -> dict[str, Any]:
    answer: dict[str, Any] = await upstream.post(
        "limits", f"/v1/credit-checks/{check_id}/decision", person=person, json={"decision": decision, "comment": comment}
    )
    return answer
