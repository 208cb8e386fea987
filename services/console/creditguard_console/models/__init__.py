"""The console's own tables, one module per domain: people and their sessions. Everything else the
console shows belongs to the three services and is read through their APIs."""


def load_all_models() -> None:
    """Import every table so Alembic and the app see the whole schema."""
    from creditguard_console.models import people, sessions  # noqa: F401
