"""The command line each service offers: ``migrate`` (Alembic upgrade to head) and ``serve``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from creditguard_shared.migrations import upgrade_to_head
from creditguard_shared.settings import ServiceSettingsMixin


def migrations_dir(package: str) -> Path:
    return Path(str(resources.files(package).joinpath("migrations")))


def run_service_cli(
    argv: list[str] | None, *, settings_factory: Callable[[], ServiceSettingsMixin], app_path: str, package: str
) -> int:
    settings = settings_factory()
    parser = argparse.ArgumentParser(prog=f"creditguard-{settings.service_name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations up to head")
    serve = sub.add_parser("serve", help="run the HTTP service (migrate first)")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    args = parser.parse_args(argv)

    if args.command == "migrate" or getattr(args, "migrate", False):
        upgrade_to_head(migrations_dir(package), settings.database_url)
        print(f"{settings.service_name}: database migrated ({settings.database_url.split('@')[-1]})")
    if args.command == "serve":
        import os

        import uvicorn

        # The app reads its settings afresh: let them see where it really serves (an option given
        # here wins over the environment), so what it says about its own address is true.
        prefix = settings.model_config.get("env_prefix", "")
        os.environ[f"{prefix}HOST"], os.environ[f"{prefix}PORT"] = args.host, str(args.port)

        uvicorn.run(app_path, factory=True, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0
