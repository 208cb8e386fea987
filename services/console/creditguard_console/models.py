"""Imports every model so the metadata is complete (Alembic, tests)."""


def load_all_models() -> None:
    from creditguard_console.people import models as _people  # noqa: F401
    from creditguard_console.sessions import models as _sessions  # noqa: F401
