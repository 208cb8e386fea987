"""Pure webhook rules: Standard Webhooks signing, retry schedule, target-address safety and filters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from creditguard_alerts.models.severity import at_least

EVENT_TYPES = (
    "alert.raised",
    "alert.escalated",
    "alert.resolved",
    "collection.case_opened",
    "collection.level_changed",
    "collection.case_closed",
    "account.status_changed",
)
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_delay_seconds(*, attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**(attempts-1)``, capped."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


def unsafe_address(address: str, allowed: Iterable[IPv4Network | IPv6Network]) -> str | None:
    """Why delivering to ``address`` is refused, or None when it is a public address or explicitly allowed."""
    ip: IPv4Address | IPv6Address = ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return None
    for kind, flagged in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-global", not ip.is_global),
    ):
        if flagged:
            return f"{ip} is a {kind} address"
    return None


def matches(filter_: dict[str, Any], *, buyer_id: str | None, account_owner: str | None, severity: str | None) -> bool:
    """A subscription's filter: every given criterion must hold; ``min_severity`` applies to alert events only."""
    buyer_ids, owners, min_severity = filter_.get("buyer_ids"), filter_.get("account_owners"), filter_.get("min_severity")
    if buyer_ids and buyer_id not in buyer_ids:
        return False
    if owners and account_owner not in owners:
        return False
    return severity is None or at_least(severity, min_severity)
