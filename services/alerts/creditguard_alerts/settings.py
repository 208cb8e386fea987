from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore")

    service_name: str = "alerts"
    database_url: str = "sqlite+aiosqlite:///var/alerts.db"
    port: int = 8003
