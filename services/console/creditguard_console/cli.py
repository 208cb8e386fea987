"""``creditguard-console migrate | serve | add-person | set-password | dev-people``."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from pathlib import Path

from creditguard_console.settings import Settings
from creditguard_shared.service_cli import run_service_cli

# make run's development people, one per role; the three the issue names are written to the file.
DEV_PEOPLE = (
    ("credit_manager", "Carla Credit", "carla.credit@example.com"),
    ("sales", "Sam Sales", "sam.sales@example.com"),
    ("admin", "Ada Admin", "ada.admin@example.com"),
    ("read_only", "Rita Reader", "rita.reader@example.com"),
)


async def _with_session(settings: Settings, work):
    from creditguard_console.models import load_all_models
    from creditguard_shared.database import create_engine, create_session_factory

    load_all_models()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def ensure_dev_people(settings: Settings, out: Path) -> dict[str, dict[str, str]]:
    """One person per role. Passwords already in ``out`` are kept while they still sign in (so a
    browser's saved password survives a restart); otherwise a new one is set."""
    from argon2 import PasswordHasher

    from creditguard_console.people import service
    from creditguard_console.people.repository import PeopleRepository
    from creditguard_shared.clock import Clock

    known = await asyncio.to_thread(_read_people, out)

    async def work(session):
        people = {}
        for role, name, email in DEV_PEOPLE:
            password = (known.get(role) or {}).get("password") or secrets.token_urlsafe(12)
            person = await PeopleRepository(session).by_email(email)
            if person is None:
                await service.create_person(session, email=email, name=name, role=role, password=password, now=Clock().now())
            else:
                try:
                    PasswordHasher().verify(person.password_hash, password)
                    person.failed_sign_ins, person.locked_until = 0, None
                except Exception:  # noqa: BLE001 - a mismatch of any kind means a new password
                    password = secrets.token_urlsafe(12)
                    await service.set_password(session, email=email, password=password)
            people[role] = {"email": email, "password": password}
        return people

    people = await _with_session(settings, work)
    await asyncio.to_thread(_write_people, out, people)
    return people


def _read_people(path: Path) -> dict[str, dict[str, str]]:
    return json.loads(path.read_text()) if path.exists() else {}


def _write_people(path: Path, people: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(people, indent=2))
    path.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] not in (["add-person"], ["set-password"], ["dev-people"]):
        return run_service_cli(argv, settings_factory=Settings, app_path="creditguard_console.app:create_app", package="creditguard_console")
    parser = argparse.ArgumentParser(prog="creditguard-console")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-person", help="create a person; the password is read from stdin")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["credit_manager", "sales", "admin", "read_only"])
    reset = sub.add_parser("set-password", help="set a person's password (read from stdin) and lift any lock-out")
    reset.add_argument("--email", required=True)
    dev = sub.add_parser("dev-people", help="ensure one development person per role and write their sign-ins as JSON")
    dev.add_argument("--out", default="var/dev-users.json")
    args = parser.parse_args(argv)
    settings = Settings()
    from creditguard_console.people import service
    from creditguard_shared.clock import Clock

    if args.command == "add-person":
        password = sys.stdin.readline().rstrip("\n")
        asyncio.run(
            _with_session(settings, lambda s: service.create_person(s, email=args.email, name=args.name, role=args.role, password=password, now=Clock().now()))
        )
        print(f"{args.email} added as {args.role}")
    elif args.command == "set-password":
        password = sys.stdin.readline().rstrip("\n")
        asyncio.run(_with_session(settings, lambda s: service.set_password(s, email=args.email, password=password)))
        print(f"password of {args.email} set")
    else:
        people = asyncio.run(ensure_dev_people(settings, Path(args.out)))
        print(json.dumps(people, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
