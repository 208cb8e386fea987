"""People, for administrators: who may sign in, in which role; add someone, lift a lock-out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from creditguard_console.context import ContextDep
from creditguard_console.pages import CheckedForm, DbSession, Me, redirect, render, require
from creditguard_console.people import rules, service
from creditguard_console.people.rules import Permission

router = APIRouter(tags=["people"], include_in_schema=False)


@router.get("/people", response_class=HTMLResponse)
async def people_page(request: Request, me: Me, session: DbSession, context: ContextDep) -> HTMLResponse:
    require(me, Permission.MANAGE_PEOPLE)
    people = await service.list_people(session)
    now = context.clock.now()
    return render(
        request,
        "people.html",
        me=me,
        people=people,
        roles=[r.value for r in rules.PersonRole],
        locked={p.person_id for p in people if rules.is_locked(p.locked_until, now=now)},
    )


@router.post("/people")
async def add_person(me: Me, form: CheckedForm, session: DbSession, context: ContextDep) -> Response:
    require(me, Permission.MANAGE_PEOPLE)
    person = await service.create_person(
        session,
        email=str(form.get("email") or ""),
        name=str(form.get("name") or "").strip() or "?",
        role=str(form.get("role") or ""),
        password=str(form.get("password") or ""),
        now=context.clock.now(),
    )
    await session.commit()
    return redirect("/people", notice=f"{person.name} ({person.email}) may sign in as {person.role.replace('_', ' ')}.")


@router.post("/people/{person_id}/unlock")
async def unlock(person_id: str, me: Me, _: CheckedForm, session: DbSession) -> Response:
    require(me, Permission.MANAGE_PEOPLE)
    person = await service.unlock(session, person_id=person_id)
    await session.commit()
    return redirect("/people", notice=f"{person.name} may sign in again.")
