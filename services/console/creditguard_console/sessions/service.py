"""Sessions: a random token in an HttpOnly cookie, its SHA-256 in the database, and a CSRF token
per session that every form carries (synchroniser token)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_console.models.people import Person
from creditguard_console.models.sessions import WebSession
from creditguard_console.sessions.repository import SessionRepository
from creditguard_shared.errors import Forbidden


@dataclass(frozen=True)
class SignedIn:
    person: Person
    csrf_token: str
    token_sha256: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(session: AsyncSession, *, person: Person, now: datetime, hours: float) -> str:
    """A new session for the person; returns the cookie's token (shown to nobody else)."""
    repository = SessionRepository(session)
    # Sign-in is rare enough to carry the clean-up of expired sessions.
    await repository.remove_expired(now=now)
    token = secrets.token_urlsafe(32)
    await repository.add(
        WebSession(
            token_sha256=_digest(token),
            person_id=person.person_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token


async def resolve(session: AsyncSession, *, token: str, now: datetime) -> SignedIn | None:
    found = await SessionRepository(session).live_with_person(_digest(token), now=now)
    if found is None:
        return None
    web_session, person = found
    return SignedIn(person=person, csrf_token=web_session.csrf_token, token_sha256=web_session.token_sha256)


async def close_session(session: AsyncSession, *, token_sha256: str) -> None:
    await SessionRepository(session).remove(token_sha256)


def check_csrf(expected: str, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise Forbidden("The form's CSRF token is missing or wrong: reload the page and try again.")
