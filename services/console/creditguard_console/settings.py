from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The console has no broker and no outbox: it owns people and sessions, and reads and writes
    everything else through the three services' APIs with its own API key (role ``console``)."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    service_name: str = "console"
    database_url: str = "sqlite+aiosqlite:///var/console.db"
    host: str = "127.0.0.1"
    port: int = 8004
    log_level: str = "INFO"
    log_json: bool = True
    scoring_url: str = "http://127.0.0.1:8001"
    limits_url: str = "http://127.0.0.1:8002"
    alerts_url: str = "http://127.0.0.1:8003"
    # A key of role "console" from the services' key file; it acts only for the signed-in person.
    api_key: str = ""
    upstream_timeout_seconds: float = 10.0
    # Secure cookies travel over HTTPS only; a plain-HTTP local run (make run) turns it off.
    cookie_secure: bool = True
    session_hours: float = 10.0
    # Consecutive failed sign-ins that lock a person out, and for how long.
    lock_out_after_failures: int = 5
    lock_out_minutes: int = 15
    # The portfolio page's figures are shared by everyone and refetched in the background once
    # older than this (limits computes them from the whole book); 0 fetches them on every view.
    portfolio_cache_seconds: float = 60.0
    # Fetch the portfolio figures at start-up (retrying while the services start), not on the first view.
    portfolio_warm_up: bool = True
    # Lines one bulk limit import may carry (each becomes one call to the limits service).
    import_max_rows: int = 2000
