"""The service's tables and the vocabularies their columns hold, one module per domain: every
domain reads them, none owns another's SQL."""


def load_all_models() -> None:
    """Import every table so Alembic and the app see the whole schema."""
    from creditguard_alerts.models import buyers, collection_cases, early_warning, receivables, webhooks  # noqa: F401
