"""The production stack's files, validated without a container engine: the compose file against
the Compose Specification schema, the Kubernetes manifests against the Kubernetes schemas, the
alerting rules with promtool, and the generated files against their generators."""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, f"{path} is not a Python file"
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def _check_compose(path: Path) -> subprocess.CompletedProcess:
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True, text=True)


def test_compose_file_follows_the_compose_specification(tmp_path):
    result = _check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a misspelt key is caught.
    broken = (ROOT / "docker-compose.yml").read_text().replace("restart: unless-stopped", "restartt: unless-stopped", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    assert _check_compose(tmp_path / "docker-compose.yml").returncode != 0


def test_compose_stack_is_wired_by_configuration():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    for name in ("scoring", "limits", "alerts"):
        service = services[name]
        assert "--migrate" in service["command"]
        env = service["environment"]
        assert env[f"{name.upper()}_DATABASE_URL"].endswith(f"/creditguard_{name}")
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    console = services["console"]
    assert "--migrate" in console["command"] and "8004:8004" in console["ports"]
    assert console["environment"]["CONSOLE_DATABASE_URL"].endswith("/creditguard_console")
    assert {console["environment"][f"CONSOLE_{n.upper()}_URL"] for n in ("scoring", "limits", "alerts")} == {
        "http://scoring:8001",
        "http://limits:8002",
        "http://alerts:8003",
    }
    scrape_targets = {c["static_configs"][0]["targets"][0] for c in yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())["scrape_configs"]}
    assert scrape_targets == {"scoring:8001", "limits:8002", "alerts:8003", "console:8004"}
    databases = (ROOT / "deploy/postgres/init-databases.sql").read_text()
    assert all(f"creditguard_{n}" in databases for n in ("scoring", "limits", "alerts", "console"))
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER 10001" in dockerfile


def test_kubernetes_manifests_are_valid_and_current():
    builder = _load(ROOT / "deploy/kubernetes/build_manifests.py")
    committed = (ROOT / "deploy/kubernetes/creditguard.yaml").read_text()
    assert committed == builder.render(), "run `make deploy-files`"
    documents = list(yaml.safe_load_all(committed))
    for document in documents:
        kubernetes_validate.validate(document, "1.30.0", strict=True)
    kinds = {}
    for document in documents:
        kinds.setdefault(document["kind"], []).append(document)
    assert len(kinds["Deployment"]) == len(kinds["HorizontalPodAutoscaler"]) == len(kinds["Service"]) == 4
    for deployment in kinds["Deployment"]:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["resources"]["requests"] and container["securityContext"]["runAsNonRoot"]
    # The validator does reject a broken manifest.
    broken = copy.deepcopy(kinds["Deployment"][0])
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30.0", strict=True)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="make test installs Debian's prometheus (promtool)")
def test_promtool_accepts_the_alerting_rules():
    result = subprocess.run(["promtool", "check", "rules", str(ROOT / "deploy/prometheus/rules/creditguard.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 11 rules found" in result.stdout


def test_dashboards_are_current_and_provisioned():
    builder = _load(ROOT / "deploy/grafana/build_dashboards.py")
    for name, document in builder.dashboards().items():
        committed = (ROOT / "deploy/grafana/dashboards" / name).read_text()
        assert committed == builder.render(document), "run `make deploy-files`"
        panels = [p for p in json.loads(committed)["panels"] if p["type"] != "row"]
        assert panels and all(p["targets"] and p["datasource"]["uid"] == "prometheus" for p in panels)
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    assert datasource["uid"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
