from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="LIMITS_", extra="ignore")

    service_name: str = "limits"
    database_url: str = "sqlite+aiosqlite:///var/limits.db"
    port: int = 8002
