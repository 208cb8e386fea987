from pydantic import Field
from pydantic_settings import SettingsConfigDict

from creditguard_shared.settings import ServiceSettingsMixin


class Settings(ServiceSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    port: int = 8001
    # Share of buyers expected to default within a year in this book: the financial model's average
    # company is shifted to it, a buyer without statements is scored at it, and the calibration
    # turns about it. 7 %: the bankrupt share of the company data the default calibration was fitted on.
    portfolio_base_rate: float = Field(0.07, gt=0, lt=1)
    # Calibration version 0, in force until a credit manager applies a fitted one (POST
    # /v1/calibration/recalibrations): logit(PD) = pivot + intercept + slope * (score - pivot)
    # + payment points, pivot = logit(portfolio_base_rate). Fitted by maximum likelihood on
    # train_1y.csv as the simulation books it (bench/calibration_book.py); see docs/scoring.md.
    calibration_intercept: float = 1.312
    calibration_slope: float = Field(0.744, gt=0)
    # Buyers re-assessed per transaction when a recalibration re-grades the book.
    regrade_chunk: int = Field(200, ge=1, le=5000)
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
