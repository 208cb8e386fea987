"""Webhook signing secrets are stored encrypted under ALERTS_WEBHOOK_SECRET_KEYS, the keys rotate
(new key first, re-encrypt, old key removed) without changing a signature, no subscription is
created without a key, and the links in payloads follow the service's own address."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from creditguard_alerts.settings import Settings
from creditguard_alerts.webhooks.secret_keys import SecretUnreadable, WebhookSecretKeys, new_key
from creditguard_shared.clock import Clock
from creditguard_shared.events.contracts import AccountStatusChangedV1
from services.alerts.tests.conftest import START
from services.alerts.tests.events import new_buyer
from tests.kafka_tools import publish_event


async def _stored_secrets(alerts) -> list[str]:
    async with alerts.runtime.session_factory() as session:
        return list((await session.execute(text("SELECT secret_encrypted FROM webhook_subscriptions"))).scalars())


async def _status_change_delivered(alerts, receiver, broker, eventually, buyer: str) -> dict:
    await publish_event(broker.bootstrap_servers, AccountStatusChangedV1(buyer_id=buyer, old_status="active", new_status="on_hold"), subject=buyer)

    async def delivered():
        mine = [r for r in receiver.accepted_of("account.status_changed") if r.payload["data"]["account"]["buyer_id"] == buyer]
        assert mine, receiver.accepted
        return mine[0]

    return await eventually(delivered)


async def test_secrets_are_encrypted_at_rest_and_rotate_without_changing_signatures(start_service, databases, broker, receiver, eventually):
    old_key, new = new_key(), new_key()
    url = await databases.create("alerts")
    alerts = await start_service(
        "alerts",
        database_url=url,
        bootstrap_servers=broker.bootstrap_servers,
        clock=Clock(fixed=START),
        webhook_allowed_networks="127.0.0.0/8",
        webhook_dispatch_interval_seconds=0.1,
        sweep_interval_seconds=3600,
        webhook_secret_keys=old_key,
        port=4321,
    )
    created = await alerts.client.post(
        "/v1/webhooks/subscriptions", headers=alerts.auth("credit_manager"), json={"url": receiver.url, "event_types": ["account.status_changed"]}
    )
    assert created.status_code == 201, created.text
    secret = receiver.secret = created.json()["secret"]
    [stored] = await _stored_secrets(alerts)
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert WebhookSecretKeys([old_key]).decrypt(stored) == secret
    # The secret is shown once, at creation, and never again.
    shown = await alerts.client.get(f"/v1/webhooks/subscriptions/{created.json()['id']}", headers=alerts.auth("credit_manager"))
    assert "secret" not in shown.json() and secret not in shown.text

    first = await _status_change_delivered(alerts, receiver, broker, eventually, new_buyer())
    assert first.verified
    # No public base URL set: links name the port the service serves on.
    assert first.payload["data"]["links"]["buyer_alerts"].startswith("http://127.0.0.1:4321/v1/alerts?buyer_id=")

    # Rotation: the new key goes first, the operator re-encrypts, then the old key is removed.
    alerts.runtime.settings.webhook_secret_keys = SecretStr(f"{new},{old_key}")
    command = [sys.executable, "-m", "creditguard_alerts.cli", "reencrypt-webhook-secrets"]
    env = {**os.environ, "ALERTS_DATABASE_URL": url, "ALERTS_WEBHOOK_SECRET_KEYS": f"{new},{old_key}"}
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 webhook secrets re-encrypted" in done.stdout
    [rotated] = await _stored_secrets(alerts)
    assert WebhookSecretKeys([new]).decrypt(rotated) == secret
    with pytest.raises(SecretUnreadable):
        WebhookSecretKeys([old_key]).decrypt(rotated)

    alerts.runtime.settings.webhook_secret_keys = SecretStr(new)
    second = await _status_change_delivered(alerts, receiver, broker, eventually, new_buyer())
    # Signed with the same secret as before: the subscriber changes nothing.
    assert second.verified

    # A key that decrypts nothing: the delivery is not sent unsigned, and the attempt says why.
    alerts.runtime.settings.webhook_secret_keys = SecretStr(new_key())
    stranger = new_buyer()
    await publish_event(broker.bootstrap_servers, AccountStatusChangedV1(buyer_id=stranger, old_status="active", new_status="blocked"), subject=stranger)

    async def refused():
        items = (await alerts.client.get(f"/v1/webhooks/subscriptions/{created.json()['id']}/deliveries", headers=alerts.auth("credit_manager"))).json()[
            "items"
        ]
        errors = [d["last_error"] or "" for d in items]
        assert any("cannot be decrypted" in e for e in errors), items

    await eventually(refused)
    assert all(r.payload["data"]["account"]["buyer_id"] != stranger for r in receiver.accepted)


async def test_without_a_key_no_subscription_is_created(start_service, databases, broker, receiver):
    alerts = await start_service(
        "alerts",
        database_url=await databases.create("alerts"),
        bootstrap_servers=broker.bootstrap_servers,
        webhook_allowed_networks="127.0.0.0/8",
        webhook_secret_keys="",
        consumers_enabled=False,
    )
    response = await alerts.client.post(
        "/v1/webhooks/subscriptions", headers=alerts.auth("credit_manager"), json={"url": receiver.url, "event_types": ["alert.raised"]}
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "ALERTS_WEBHOOK_SECRET_KEYS" in response.json()["detail"]
    assert (await alerts.client.get("/v1/webhooks/subscriptions", headers=alerts.auth("credit_manager"))).json() == []


def test_keys_are_checked_when_the_settings_load():
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        Settings(webhook_secret_keys=f"{new_key()},not-a-key")


@pytest.mark.parametrize(
    ("settings", "base"),
    [
        ({"host": "127.0.0.1", "port": 18003}, "http://127.0.0.1:18003"),
        ({"host": "0.0.0.0", "port": 8003}, "http://localhost:8003"),
        ({"port": 18003, "public_base_url": "https://credit.example.com/alerts/"}, "https://credit.example.com/alerts"),
    ],
)
def test_links_follow_the_real_address_unless_a_public_base_url_is_set(settings, base):
    assert Settings(**settings).links_base_url == base
