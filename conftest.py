pytest_plugins = ["tests.fixtures.infrastructure", "tests.fixtures.services"]
