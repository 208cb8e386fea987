"""Typed keys for what a unit of work holds until its transaction ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class Held(Generic[T]):
    """A typed key for what a unit of work holds until its transaction ends: the rows a batch read
    at once, a table read once per transaction. The value lives in the session's ``info`` (a
    repository is given only the session) and the unit of work drops every held value when it
    commits or rolls back, so nothing read in one transaction is trusted in the next. Within the
    transaction, code that changes what a held value reflects forgets it (``forget``) or updates it.

    Declared once per module: ``_READ_AHEAD: Held[dict[str, Invoice]] = Held("ledger.read_ahead", dict)``."""

    __slots__ = ("_factory", "name")

    def __init__(self, name: str, factory: Callable[[], T] | None = None) -> None:
        self.name = name
        self._factory = factory

    def __repr__(self) -> str:
        return f"Held({self.name!r})"

    def peek(self, session: AsyncSession) -> T | None:
        """What is held, or None."""
        return cast("T | None", session.info.get(self))

    def held(self, session: AsyncSession) -> bool:
        return self in session.info

    def get(self, session: AsyncSession) -> T:
        """What is held, made by the key's factory (an empty container) the first time."""
        if self not in session.info:
            if self._factory is None:
                raise KeyError(f"{self.name} holds nothing and has no factory")
            session.info[self] = self._factory()
        return cast("T", session.info[self])

    def put(self, session: AsyncSession, value: T) -> T:
        session.info[self] = value
        return value

    def forget(self, session: AsyncSession) -> T | None:
        """Drop what is held (the next read goes to the database); answers what was held."""
        return cast("T | None", session.info.pop(self, None))


def drop_held(session: AsyncSession) -> None:
    """Forget every ``Held`` value of the session: its transaction ended."""
    for key in [key for key in session.info if isinstance(key, Held)]:
        del session.info[key]
