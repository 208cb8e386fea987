"""The service's tables, one module per domain: every domain reads them, none owns another's SQL."""


def load_all_models() -> None:
    """Import every table so Alembic and the app see the whole schema."""
    from creditguard_limits.models import accounts, checks, fx, insurance, ledger  # noqa: F401
