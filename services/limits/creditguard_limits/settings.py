from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="LIMITS_", extra="ignore")

    service_name: str = "limits"
    database_url: str = "sqlite+aiosqlite:///var/limits.db"
    port: int = 8002
    # The credit policy (grade matrix, checks, ramp-up); empty means the packaged credit_policy.json.
    policy_file: str = ""
    policy_recheck_seconds: float = 5.0
    # Portfolio figures, metrics and the unknown-buyer default are expressed in this currency.
    reporting_currency: str = "EUR"
    # The daily sweep (aging, expiring reservations and temporary increases) runs at most once a
    # day; the loop wakes this often to see whether the day changed.
    daily_sweep_interval_seconds: float = 300.0
    portfolio_metrics_interval_seconds: float = 60.0
