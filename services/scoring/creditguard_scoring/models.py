"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_scoring.assessment import models as _assessment  # noqa: F401
    from creditguard_scoring.buyers import models as _buyers  # noqa: F401
    from creditguard_scoring.calibration import models as _calibration  # noqa: F401
    from creditguard_scoring.payment_behaviour import models as _payment_behaviour  # noqa: F401
    from creditguard_scoring.statements import models as _statements  # noqa: F401
