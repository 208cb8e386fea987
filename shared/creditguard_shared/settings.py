"""Settings pieces every service embeds in its own ``Settings`` class."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Broker connection, shared by all services (``KAFKA_`` prefix: one cluster for the whole system)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    # Apache Kafka accepts the idempotent-producer handshake; the local tansu broker rejects it.
    enable_idempotence: bool = False
    acks: str = "all"
    request_timeout_ms: int = 10_000
    # Retries before a message that keeps failing is dead-lettered.
    handler_max_attempts: int = 3
    consumer_auto_offset_reset: str = "earliest"
    # Kafka's defaults. A group join waits about half the session timeout, so the local broker
    # (make run, tests) uses 1 s; Apache Kafka refuses sessions under group.min.session.timeout.ms (6 s).
    consumer_session_timeout_ms: int = 10_000
    consumer_heartbeat_interval_ms: int = 3_000
    # How long the broker may hold a fetch that finds no new message (Kafka's default). Apache
    # Kafka answers as soon as one arrives; the local tansu broker only about 115 ms later, so
    # make run, the simulator and the tests use 50 ms (a message then arrives in 5-7 ms).
    consumer_fetch_max_wait_ms: int = 500


class ServiceSettingsMixin(BaseSettings):
    """Fields each service's ``Settings`` has; the service sets its own env prefix and defaults."""

    service_name: str = "creditguard"
    database_url: str = "sqlite+aiosqlite:///var/service.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Processes serving the port (``serve --workers``): each runs the API and joins the consumer
    # groups; one at a time relays the outbox and runs the daily jobs. PostgreSQL only.
    workers: int = 1
    # Hashed API keys (JSON file written by ``creditguard-keys``); plaintext keys are never stored.
    api_keys_file: str = "var/api-keys.json"
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_interval_seconds: float = 0.5
    outbox_batch_size: int = 200
    # Published outbox rows are the system's log: kept this long (days) so a broker that lost
    # data can be refilled and an operator can replay, then pruned.
    outbox_retention_days: float = 7.0
    outbox_prune_interval_seconds: float = 3600.0
    # How often the relay reads back what it published (cluster id, topics, end offsets) and the
    # broker watch probes the broker and the consumer groups' lag.
    broker_check_interval_seconds: float = 10.0
    # Container objects allocated between two young-generation collections of Python's cycle
    # collector (0: Python's default, 700). A ledger batch allocates hundreds of thousands of
    # short-lived objects (rows, models, events); at 700 the collector runs hundreds of times per
    # batch and took 10-20 % of its time.
    gc_threshold: int = 50_000
    consumers_enabled: bool = True
    relay_enabled: bool = True
    # Exposes GET/PUT /internal/clock (admin only) so tests and the simulator can move time; needs
    # the development package (tools/local, creditguard-local) installed.
    # Never enable in production.
    clock_control_enabled: bool = False
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
