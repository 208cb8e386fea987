"""Imports every domain's models so Alembic and the app see the whole schema."""


def load_all_models() -> None:
    from creditguard_alerts.alerting import models as _alerting  # noqa: F401
    from creditguard_alerts.buyers import models as _buyers  # noqa: F401
    from creditguard_alerts.collections import models as _collections  # noqa: F401
    from creditguard_alerts.receivables import models as _receivables  # noqa: F401
    from creditguard_alerts.webhooks import models as _webhooks  # noqa: F401
