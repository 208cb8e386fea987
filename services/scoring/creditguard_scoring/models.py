"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_scoring.payment_behaviour import models as _payment_behaviour  # noqa: F401
