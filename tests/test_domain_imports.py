"""Each service's domain folders form a graph without two-way edges: a domain that needs another's
work calls it, and the other never calls back. Two folders that import each other are one domain
split in two, and every change to one drags the other along."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "scoring": ROOT / "services/scoring/creditguard_scoring",
    "limits": ROOT / "services/limits/creditguard_limits",
    "alerts": ROOT / "services/alerts/creditguard_alerts",
    "console": ROOT / "services/console/creditguard_console",
}
# Not domains: the tables, the migrations, the web assets, and the console's page edge (templates,
# form checks, the signed-in person): every page route renders through it, and it reads the
# sessions and people services to know who is signed in, as app.py wires domains together.
NOT_DOMAINS = {"models", "migrations", "pages", "templates", "static", "__pycache__"}
# Pairs still to be separated, named so the test fails as soon as they are (none left).
KNOWN_PAIRS: dict[str, set[tuple[str, str]]] = {}


def domain_imports(package: Path) -> dict[str, set[str]]:
    """For each domain folder of the package, the other domain folders its modules import."""
    domains = sorted(p.name for p in package.iterdir() if p.is_dir() and p.name not in NOT_DOMAINS and (p / "__init__.py").exists())
    graph: dict[str, set[str]] = {d: set() for d in domains}
    for domain in domains:
        for module in (package / domain).rglob("*.py"):
            for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for name in names:
                    parts = name.split(".")
                    if parts[0] == package.name and len(parts) > 1 and parts[1] in graph and parts[1] != domain:
                        graph[domain].add(parts[1])
                # ``from creditguard_x import domain``
                if isinstance(node, ast.ImportFrom) and node.module == package.name:
                    graph[domain].update(a.name for a in node.names if a.name in graph and a.name != domain)
    return graph


def mutual_pairs(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in itertools.combinations(sorted(graph), 2) if b in graph[a] and a in graph[b]}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_two_domains_import_each_other(service: str) -> None:
    pairs = mutual_pairs(domain_imports(SERVICES[service]))
    known = KNOWN_PAIRS.get(service, set())
    assert pairs <= known, f"{service}: these domain folders import each other: {sorted(pairs - known)}"
    if known:
        pytest.xfail(f"{service} still has {sorted(pairs)}") if pairs else pytest.fail(
            f"{service}: {sorted(known)} are separated now: drop them from KNOWN_PAIRS"
        )


def test_the_graph_sees_a_two_way_import(tmp_path: Path) -> None:
    package = tmp_path / "creditguard_example"
    for domain, imported in (("orders", "from creditguard_example.stock.service import reserve\n"), ("stock", "import creditguard_example.orders.rules\n")):
        (package / domain).mkdir(parents=True)
        (package / domain / "__init__.py").write_text("")
        (package / domain / "service.py").write_text(imported)
    (package / "models").mkdir()
    (package / "models" / "__init__.py").write_text("from creditguard_example.orders import service\n")
    assert mutual_pairs(domain_imports(package)) == {("orders", "stock")}
