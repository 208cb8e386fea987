"""``creditguard-alerts migrate | serve | new-webhook-secret-key | reencrypt-webhook-secrets``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from creditguard_alerts.settings import Settings
from creditguard_shared.service_cli import run_service_cli

KEY_COMMANDS = ("new-webhook-secret-key", "reencrypt-webhook-secrets")


async def reencrypt_webhook_secrets(settings: Settings) -> int:
    """Every stored webhook secret under the first configured key, in one transaction."""
    from creditguard_alerts.models import load_all_models
    from creditguard_alerts.webhooks.service import reencrypt_secrets
    from creditguard_shared.database import create_engine, create_session_factory, transaction

    load_all_models()
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await reencrypt_secrets(session, settings.secret_keys)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] not in ([command] for command in KEY_COMMANDS):
        return run_service_cli(argv, settings_factory=Settings, app_path="creditguard_alerts.app:create_app", package="creditguard_alerts")
    parser = argparse.ArgumentParser(prog="creditguard-alerts")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("new-webhook-secret-key", help="print a new key for ALERTS_WEBHOOK_SECRET_KEYS")
    sub.add_parser(
        "reencrypt-webhook-secrets", help="re-encrypt every webhook secret with the first key of ALERTS_WEBHOOK_SECRET_KEYS, so the others can be removed"
    )
    args = parser.parse_args(argv)
    if args.command == "new-webhook-secret-key":
        from creditguard_alerts.webhooks.secret_keys import new_key

        print(new_key())
        return 0
    settings = Settings()
    if not settings.secret_keys.configured:
        print("ALERTS_WEBHOOK_SECRET_KEYS is not set", file=sys.stderr)
        return 2
    from creditguard_alerts.webhooks.secret_keys import SecretUnreadable

    try:
        count = asyncio.run(reencrypt_webhook_secrets(settings))
    except SecretUnreadable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{count} webhook secrets re-encrypted with the first key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
