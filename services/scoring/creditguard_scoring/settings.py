from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    port: int = 8001
