"""The command line each service offers: ``migrate`` (Alembic upgrade to head) and ``serve``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import ClassVar, Protocol

from pydantic_settings import SettingsConfigDict

from creditguard_shared.database import is_sqlite
from creditguard_shared.migrations import upgrade_to_head


class ServedSettings(Protocol):
    """What the command line reads of a service's settings: every ``ServiceSettingsMixin`` has it, and so
    has the console's own ``Settings`` (no broker, no outbox). ``workers`` is optional (the console has none)."""

    model_config: ClassVar[SettingsConfigDict]

    @property
    def service_name(self) -> str: ...

    @property
    def database_url(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


def migrations_dir(package: str) -> Path:
    return Path(str(resources.files(package).joinpath("migrations")))


def run_service_cli(argv: list[str] | None, *, settings_factory: Callable[[], ServedSettings], app_path: str, package: str) -> int:
    settings = settings_factory()
    parser = argparse.ArgumentParser(prog=f"creditguard-{settings.service_name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations up to head")
    serve = sub.add_parser("serve", help="run the HTTP service (migrate first)")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    serve.add_argument(
        "--workers",
        type=int,
        default=getattr(settings, "workers", 1),
        help="worker processes sharing the port (PostgreSQL only: SQLite serialises every writer in one file)",
    )
    args = parser.parse_args(argv)

    if args.command == "migrate" or getattr(args, "migrate", False):
        upgrade_to_head(migrations_dir(package), settings.database_url)
        print(f"{settings.service_name}: database migrated ({settings.database_url.split('@')[-1]})")
    if args.command == "serve":
        import os

        import uvicorn

        if args.workers < 1:
            parser.error("--workers must be at least 1")
        if args.workers > 1 and is_sqlite(settings.database_url):
            parser.error("--workers above 1 needs PostgreSQL: on SQLite the workers would only queue for the one writer lock")
        # The app reads its settings afresh: let them see where it really serves (an option given
        # here wins over the environment), so what it says about its own address is true.
        prefix = settings.model_config.get("env_prefix", "")
        os.environ[f"{prefix}HOST"], os.environ[f"{prefix}PORT"] = args.host, str(args.port)

        # A worker starting on busy cores can take longer than uvicorn's 5 s to answer its first
        # health check; the supervisor would kill it and start another, and none would ever serve.
        uvicorn.run(
            app_path, factory=True, host=args.host, port=args.port, workers=args.workers, log_config=None, access_log=False, timeout_worker_healthcheck=60
        )
    return 0
