from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_console.models.people import Person


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str, *, for_update: bool = False) -> Person | None:
        statement = select(Person).where(Person.email == email)
        if for_update:
            # Two wrong passwords at once must both count towards the lock-out.
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, person_id: str) -> Person | None:
        return await self.session.get(Person, person_id)

    async def add(self, person: Person) -> None:
        self.session.add(person)
        await self.session.flush()

    async def all(self) -> list[Person]:
        return list((await self.session.execute(select(Person).order_by(func.lower(Person.name)))).scalars())
