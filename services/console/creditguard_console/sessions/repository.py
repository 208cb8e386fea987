from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_console.models.people import Person
from creditguard_console.models.sessions import WebSession


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, web_session: WebSession) -> None:
        self.session.add(web_session)
        await self.session.flush()

    async def live_with_person(self, token_sha256: str, *, now: datetime) -> tuple[WebSession, Person] | None:
        statement = (
            select(WebSession, Person)
            .join(Person, Person.person_id == WebSession.person_id)
            .where(WebSession.token_sha256 == token_sha256, WebSession.expires_at > now)
        )
        row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def remove(self, token_sha256: str) -> None:
        await self.session.execute(delete(WebSession).where(WebSession.token_sha256 == token_sha256))

    async def remove_expired(self, *, now: datetime) -> None:
        await self.session.execute(delete(WebSession).where(WebSession.expires_at <= now))
