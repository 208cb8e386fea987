"""People: creating them, signing them in (Argon2id hashes), locking them out after repeated failures."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_console.models.people import Person
from creditguard_console.people import rules
from creditguard_console.people.repository import PeopleRepository
from creditguard_shared.errors import Conflict, DomainError, NotFound, Unprocessable

# argon2-cffi's defaults follow RFC 9106's second recommendation (64 MiB, 3 passes).
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password
# and the timing tells nobody which addresses exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 12


class SignInRefused(DomainError):
    status = 401
    problem_type = "sign-in-refused"


class LockedOut(DomainError):
    status = 423
    problem_type = "locked-out"


@dataclass(frozen=True)
class SignInPolicy:
    lock_after: int
    lock_minutes: int


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


async def create_person(session: AsyncSession, *, email: str, name: str, role: str, password: str, now: datetime) -> Person:
    email = rules.normalise_email(email)
    if "@" not in email:
        raise Unprocessable(f"'{email}' is not an e-mail address.")
    if role not in {r.value for r in rules.PersonRole}:
        raise Unprocessable(f"'{role}' is not a role.")
    repository = PeopleRepository(session)
    if await repository.by_email(email) is not None:
        raise Conflict(f"{email} already has an account.")
    person = Person(
        person_id=f"p_{secrets.token_hex(8)}",
        email=email,
        name=name.strip()[:100],
        role=role,
        password_hash=hash_password(password),
        failed_sign_ins=0,
        created_at=now,
    )
    await repository.add(person)
    return person


async def set_password(session: AsyncSession, *, email: str, password: str) -> Person:
    person = await PeopleRepository(session).by_email(rules.normalise_email(email), for_update=True)
    if person is None:
        raise NotFound(f"No person with e-mail {email}.")
    person.password_hash, person.failed_sign_ins, person.locked_until = hash_password(password), 0, None
    return person


async def sign_in(session: AsyncSession, *, email: str, password: str, now: datetime, policy: SignInPolicy) -> Person:
    """The person if the password is right and they are not locked out. A failure is counted in
    the caller's transaction, which it must commit even though sign-in failed."""
    person = await PeopleRepository(session).by_email(rules.normalise_email(email), for_update=True)
    if person is None:
        _verify(_DUMMY_HASH, password)
        raise SignInRefused("The e-mail or the password is wrong.")
    if rules.is_locked(person.locked_until, now=now):
        raise LockedOut(
            f"This account is locked after {policy.lock_after} failed sign-ins; try again after {person.locked_until:%H:%M} UTC or ask an administrator."
        )
    if not _verify(person.password_hash, password):
        person.failed_sign_ins, person.locked_until = rules.after_failed_sign_in(
            person.failed_sign_ins, now=now, lock_after=policy.lock_after, lock_minutes=policy.lock_minutes
        )
        if person.locked_until is not None:
            raise LockedOut(f"Wrong password {policy.lock_after} times: this account is locked for {policy.lock_minutes} minutes.")
        raise SignInRefused("The e-mail or the password is wrong.")
    person.failed_sign_ins, person.locked_until, person.last_sign_in_at = 0, None, now
    if _hasher.check_needs_rehash(person.password_hash):
        person.password_hash = _hasher.hash(password)
    return person


async def unlock(session: AsyncSession, *, person_id: str) -> Person:
    person = await PeopleRepository(session).get(person_id)
    if person is None:
        raise NotFound(f"No person {person_id}.")
    person.failed_sign_ins, person.locked_until = 0, None
    return person


async def get_person(session: AsyncSession, *, person_id: str) -> Person | None:
    return await PeopleRepository(session).get(person_id)


async def list_people(session: AsyncSession) -> list[Person]:
    return await PeopleRepository(session).all()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
