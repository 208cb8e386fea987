from __future__ import annotations

from typing import Any

from creditguard_console.models.people import Person
from creditguard_console.upstream.client import Upstream


async def search(upstream: Upstream, *, person: Person, q: str, limit: int, offset: int = 0) -> dict[str, Any]:
    """Buyers whose name contains ``q`` or whose id starts with it (scoring owns the profiles)."""
    answer: dict[str, Any] = await upstream.get("scoring", "/v1/buyers", person=person, params={"q": q, "sort": "name", "limit": limit, "offset": offset})
    return answer
