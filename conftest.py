import pytest

pytest_plugins = ["tests.fixtures.infrastructure", "tests.fixtures.services"]

# Fixtures that start a broker, a database server or a service (directly or through the fixtures they use).
SERVER_FIXTURES = frozenset(
    {
        "broker",
        "database_backend",
        "databases",
        "start_service",
        "receiver",
        "alerts",
        "limits",
        "limits_consuming",
        "console",
        "desk",
        "desk_with_events",
    }
)
# Modules whose tests start processes or servers themselves, without a fixture.
SELF_STARTING_MODULES = frozenset({"test_local_stack.py", "test_several_workers.py", "test_operations.py", "test_browser.py"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `unit` every test that needs neither the broker nor a database server nor a started service:
    `make check` runs these (pytest -m unit)."""
    for item in items:
        if item.get_closest_marker("e2e") or item.path.name in SELF_STARTING_MODULES:
            continue
        if SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.unit)
