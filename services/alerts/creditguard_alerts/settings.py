from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from creditguard_alerts.webhooks.secret_keys import WebhookSecretKeys, parse_keys, secret_keys
from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore")

    service_name: str = "alerts"
    database_url: str = "sqlite+aiosqlite:///var/alerts.db"
    port: int = 8003
    # Base of the REST links carried in webhook payloads; unset, the address the service serves on
    # (its host and port, localhost for a wildcard host).
    public_base_url: str | None = None
    # Time-driven rules (days past due, insurer deadlines, reviews, collection levels) and gauges.
    sweep_interval_seconds: float = 60.0
    # An invoice that arrives more than this many days after its due date is back-posted history
    # (an ERP loading its book, documents re-sent); the rules wait this many hours for its payments
    # and credit notes before judging it, so history arriving invoices first raises nothing.
    backposted_after_days: int = Field(default=7, ge=0, le=3650)
    backposted_settle_hours: float = Field(default=24.0, ge=0, le=24 * 365)
    webhook_dispatch_interval_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    webhook_batch_size: int = 100
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_max_delay_seconds: float = 3600.0
    # After this long without a successful attempt a delivery is given up and its subscription disabled.
    webhook_retry_period_seconds: float = 86400.0
    # Comma-separated CIDRs that webhook targets may resolve to although private, loopback or link-local.
    webhook_allowed_networks: str = ""
    # Comma-separated Fernet keys that encrypt webhook signing secrets at rest: the first encrypts,
    # any decrypts (rotation: see docs/operations.md). Without one, no subscription can be created.
    webhook_secret_keys: SecretStr = SecretStr("")

    @field_validator("webhook_secret_keys")
    @classmethod
    def _valid_secret_keys(cls, value: SecretStr) -> SecretStr:
        parse_keys(value.get_secret_value())
        return value

    @property
    def secret_keys(self) -> WebhookSecretKeys:
        return secret_keys(self.webhook_secret_keys.get_secret_value())

    @property
    def links_base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        for cidr in filter(None, (part.strip() for part in value.split(","))):
            ip_network(cidr, strict=False)
        return value

    @property
    def allowed_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(part.strip(), strict=False) for part in self.webhook_allowed_networks.split(",") if part.strip()]
