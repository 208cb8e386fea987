"""Webhook signing secrets at rest: Fernet tokens (AES-128-CBC with an HMAC-SHA256 tag) under
the keys in ``ALERTS_WEBHOOK_SECRET_KEYS``. The first key encrypts, any of them decrypts, so a
key is rotated by putting a new one first, re-encrypting (``creditguard-alerts
reencrypt-webhook-secrets``) and then removing the old one."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from creditguard_shared.errors import ServiceUnavailable

SETTING = "ALERTS_WEBHOOK_SECRET_KEYS"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(value: str) -> list[str]:
    """Comma-separated Fernet keys; a malformed one is an error (at start-up, not at first use)."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(f"{SETTING}: key {position} is not a Fernet key (32 bytes, URL-safe base64)") from None
    return keys


class WebhookSecretKeys:
    def __init__(self, keys: list[str]) -> None:
        self._box = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @property
    def configured(self) -> bool:
        return self._box is not None

    def _require(self) -> MultiFernet:
        if self._box is None:
            raise ServiceUnavailable(
                f"Webhook secrets are stored encrypted and no key is configured: set {SETTING} (`creditguard-alerts new-webhook-secret-key` prints a new key)."
            )
        return self._box

    def encrypt(self, secret: str) -> str:
        return self._require().encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        if self._box is None:
            raise SecretUnreadable(f"no key is configured ({SETTING})")
        try:
            return self._box.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"none of the keys in {SETTING} decrypts it") from None

    def reencrypt(self, token: str) -> str:
        """The same secret under the first key."""
        try:
            return self._require().rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"none of the keys in {SETTING} decrypts it") from None


@lru_cache(maxsize=8)
def secret_keys(value: str) -> WebhookSecretKeys:
    """One instance per setting value: building the Fernets on every delivery would be waste."""
    return WebhookSecretKeys(parse_keys(value))
