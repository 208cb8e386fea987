from pydantic import Field
from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    port: int = 8001
    # Share of buyers expected to default within a year in this book; PDs are calibrated to it.
    portfolio_base_rate: float = Field(0.02, gt=0, lt=1)
    # Payment events mark a buyer for re-assessment; it runs once the burst has been quiet this long.
    rescore_debounce_seconds: float = Field(30.0, ge=0)
    # ... but at most this long after the first event, so a steady stream cannot postpone it for ever.
    rescore_max_delay_seconds: float = Field(300.0, ge=0)
    # How often the background pass looks for buyers whose debounce window elapsed.
    rescore_interval_seconds: float = Field(10.0, gt=0)
    # A statement whose period ended longer ago than this counts as stale (a reason, and a penalty).
    statement_stale_after_days: int = Field(548, gt=0)
    # Reasons returned with a score (the full explanation is kept with the assessment).
    max_reasons: int = Field(5, ge=1, le=20)
    # Folder with industry_risk.csv, country_risk.csv and legal_form_risk.csv; default: the packaged tables.
    risk_tables_dir: str | None = None
