"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_limits.accounts import models as _accounts  # noqa: F401
    from creditguard_limits.checks import models as _checks  # noqa: F401
    from creditguard_limits.fx import models as _fx  # noqa: F401
    from creditguard_limits.insurance import models as _insurance  # noqa: F401
    from creditguard_limits.ledger import models as _ledger  # noqa: F401
