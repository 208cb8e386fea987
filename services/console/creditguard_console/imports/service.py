"""Bulk limits: a preview of every line against the buyer's limit now, then, once confirmed, one
call per line to the limits service (so each change is audited under the person's name)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from creditguard_console.imports.rules import LimitLine
from creditguard_console.models.people import Person
from creditguard_console.upstream.client import Upstream
from creditguard_shared.errors import DomainError, NotFound

# Calls in flight at once: quick for hundreds of lines without crowding the limits service.
CONCURRENCY = 8


@dataclass(frozen=True)
class PreviewLine:
    line: LimitLine
    current: dict[str, Any] | None

    @property
    def change(self) -> str:
        if not self.line.valid:
            return "error"
        if self.current is None or self.current.get("amount") is None:
            return "new"
        same = (str(self.current["amount"]), self.current.get("currency"), self.current.get("payment_terms_days")) == (
            f"{self.line.amount:.2f}",
            self.line.currency,
            self.line.terms_days,
        )
        return "unchanged" if same else "change"


@dataclass(frozen=True)
class Applied:
    line: LimitLine
    outcome: str


async def preview(upstream: Upstream, *, person: Person, lines: list[LimitLine]) -> list[PreviewLine]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def current(line: LimitLine) -> dict[str, Any] | None:
        if not line.valid:
            return None
        async with gate:
            try:
                answer: dict[str, Any] | None = await upstream.get("limits", f"/v1/buyers/{line.buyer_id}/limit", person=person)
                return answer
            except NotFound:
                return None

    return [PreviewLine(line=line, current=found) for line, found in zip(lines, await asyncio.gather(*(current(item) for item in lines)), strict=True)]


async def apply(upstream: Upstream, *, person: Person, lines: list[LimitLine], default_reason: str) -> list[Applied]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def put(line: LimitLine) -> Applied:
        if not line.valid:
            return Applied(line=line, outcome="skipped: " + "; ".join(line.problems))
        body = {"amount": str(line.amount), "currency": line.currency, "payment_terms_days": line.terms_days, "reason": line.reason or default_reason}
        if line.review_on:
            body["review_on"] = line.review_on.isoformat()
        async with gate:
            try:
                await upstream.put("limits", f"/v1/buyers/{line.buyer_id}/limit", person=person, json=body)
            except DomainError as refused:
                return Applied(line=line, outcome=f"refused: {refused.detail}")
        return Applied(line=line, outcome="applied")

    return list(await asyncio.gather(*(put(line) for line in lines)))
