"""Roles, what each may do in the console, and the lock-out rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class PersonRole(StrEnum):
    CREDIT_MANAGER = "credit_manager"
    SALES = "sales"
    ADMIN = "admin"
    READ_ONLY = "read_only"


class Permission(StrEnum):
    DECIDE = "decide"  # approve or reject a referred order
    MANAGE_LIMITS = "manage_limits"  # limits, temporary increases, hold and release, bulk import
    COLLECT = "collect"  # promises to pay on collection cases
    ACKNOWLEDGE = "acknowledge"  # acknowledge an alert
    MANAGE_PEOPLE = "manage_people"


# The services check the same roles again (the console passes the person's role with each call);
# this table only decides which buttons a page shows and refuses early with a clear message.
PERMISSIONS: dict[PersonRole, frozenset[Permission]] = {
    PersonRole.CREDIT_MANAGER: frozenset({Permission.DECIDE, Permission.MANAGE_LIMITS, Permission.COLLECT, Permission.ACKNOWLEDGE}),
    PersonRole.SALES: frozenset({Permission.ACKNOWLEDGE}),
    PersonRole.ADMIN: frozenset(Permission),
    PersonRole.READ_ONLY: frozenset(),
}


def may(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS[PersonRole(role)]


def is_locked(locked_until: datetime | None, *, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def after_failed_sign_in(failed_sign_ins: int, *, now: datetime, lock_after: int, lock_minutes: int) -> tuple[int, datetime | None]:
    """The failure count and lock after one more wrong password: the lock-th consecutive failure
    locks the person out for a while and starts the count again."""
    failures = failed_sign_ins + 1
    if failures >= lock_after:
        return 0, now + timedelta(minutes=lock_minutes)
    return failures, None


def normalise_email(email: str) -> str:
    return email.strip().lower()
