"""The service's tables, one module per domain: every domain reads them, none owns another's SQL."""


def load_all_models() -> None:
    """Import every table so Alembic and the app see the whole schema."""
    from creditguard_scoring.models import assessment, buyers, calibration, payment_behaviour, statements  # noqa: F401
