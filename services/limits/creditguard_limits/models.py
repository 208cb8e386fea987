"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_limits.ledger import models as _ledger  # noqa: F401
