"""Every service is laid out alike, so a maintainer who knows one finds their way in the others:
the same top-level modules, tables in ``models/`` (one module per domain), Alembic in
``migrations/``, and each domain's Kafka handlers behind ``handlers.subscriptions(context)``.
docs/architecture.md describes the template."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {name: ROOT / f"services/{name}/creditguard_{name}" for name in ("scoring", "limits", "alerts", "console")}
TOP_LEVEL_MODULES = {"__init__.py", "app.py", "cli.py", "context.py", "database.py", "jobs.py", "metrics.py", "settings.py"}
# What a route may not reach into: the app's state belongs to the dependencies in context.py.
APP_STATE = "app.state"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_top_level_modules_are_the_templates(service: str) -> None:
    package = SERVICES[service]
    modules = {p.name for p in package.glob("*.py")}
    assert modules == TOP_LEVEL_MODULES, f"{service}: extra {sorted(modules - TOP_LEVEL_MODULES)}, missing {sorted(TOP_LEVEL_MODULES - modules)}"
    assert (package / "models" / "__init__.py").exists() and "def load_all_models" in (package / "models" / "__init__.py").read_text()
    assert (package / "migrations" / "env.py").exists()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_domain_module_defines_tables_outside_models(service: str) -> None:
    package = SERVICES[service]
    stray = [str(p.relative_to(package)) for p in package.rglob("models.py")]
    assert not stray, f"{service}: tables belong in models/, found {stray}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_routes_reach_the_app_only_through_dependencies(service: str) -> None:
    package = SERVICES[service]
    reaching = [str(p.relative_to(package)) for p in package.glob("*/api.py") if APP_STATE in p.read_text()]
    assert not reaching, f"{service}: routes reading {APP_STATE} directly: {reaching}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_kafka_handlers_are_subscribed_with_the_service_context(service: str) -> None:
    for handlers in SERVICES[service].glob("*/handlers.py"):
        functions = {node.name: node for node in ast.parse(handlers.read_text()).body if isinstance(node, ast.FunctionDef)}
        assert "subscriptions" in functions, f"{handlers}: no subscriptions()"
        arguments = functions["subscriptions"].args
        assert len(arguments.args) == 1 and not arguments.kwonlyargs, f"{handlers}: subscriptions takes the service context alone"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_rules_modules_import_no_database_code(service: str) -> None:
    """rules.py holds pure decisions: no SQLAlchemy and no mapped table, only values and the
    vocabularies columns hold (alerts' severity scale lives beside its tables in models/)."""
    package = SERVICES[service]
    for rules in package.glob("*/rules.py"):
        for node in ast.walk(ast.parse(rules.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                assert not name.startswith("sqlalchemy"), f"{rules}: imports {name}"
                parts = name.split(".")
                if parts[:2] == [package.name, "models"] and len(parts) > 2:
                    module = package / "models" / f"{parts[2]}.py"
                    assert "__tablename__" not in module.read_text(), f"{rules}: imports the tables of {name}"
