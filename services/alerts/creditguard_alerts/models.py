"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_alerts.receivables import models as _receivables  # noqa: F401
