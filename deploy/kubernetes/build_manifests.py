"""Writes deploy/kubernetes/creditguard.yaml: one Deployment, Service, HorizontalPodAutoscaler and
PodDisruptionBudget per service and for the console, plus the shared ConfigMap (``python deploy/kubernetes/build_manifests.py``).
Generated so the three services cannot drift apart; a test validates the output against the
Kubernetes schemas and checks it is current."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent / "creditguard.yaml"
NAMESPACE = "creditguard"
IMAGE = "ghcr.io/creditguard/creditguard:0.1.0"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    min_replicas: int
    max_replicas: int
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


SERVICES = (
    ServiceSpec("scoring", 8001, 2, 6, "250m", "256Mi", "1", "512Mi"),
    # Every ERP order passes through limits: more headroom and replicas.
    ServiceSpec("limits", 8002, 3, 12, "500m", "256Mi", "2", "512Mi"),
    ServiceSpec("alerts", 8003, 2, 6, "250m", "256Mi", "1", "512Mi"),
    # The web desk: people and sessions only; it calls the three services by their Service names.
    ServiceSpec("console", 8004, 2, 4, "250m", "256Mi", "1", "512Mi"),
)
CONSOLE = "console"


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"creditguard-{name}", "app.kubernetes.io/part-of": "creditguard"}


def _probe(path: str, port: int, *, period: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 3, "failureThreshold": failures}


def deployment(spec: ServiceSpec) -> dict:
    prefix = spec.name.upper()
    command = [f"creditguard-{spec.name}"]
    env: list[dict[str, object]] = [
        {"name": f"{prefix}_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "creditguard-secrets", "key": f"{spec.name}-database-url"}}},
        # The console checks no API keys; it holds one, to call the services on a person's behalf.
        {"name": "CONSOLE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "creditguard-secrets", "key": "console-api-key"}}}
        if spec.name == CONSOLE
        else {"name": f"{prefix}_API_KEYS_FILE", "value": "/etc/creditguard/api-keys.json"},
    ]
    if spec.name == "alerts":
        # Encrypts webhook signing secrets at rest; the migrations need it too (0006 encrypts old ones).
        secret_keys = {"secretKeyRef": {"name": "creditguard-secrets", "key": "alerts-webhook-secret-keys"}}
        env.insert(1, {"name": "ALERTS_WEBHOOK_SECRET_KEYS", "valueFrom": secret_keys})
    container = {
        "name": spec.name,
        "image": IMAGE,
        "command": [*command, "serve", "--host", "0.0.0.0", "--port", str(spec.port)],
        "ports": [{"name": "http", "containerPort": spec.port}],
        "envFrom": [{"configMapRef": {"name": "creditguard-config"}}],
        "env": env,
        # The console spools large CSV uploads to /tmp; the root filesystem stays read-only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
        if spec.name == CONSOLE
        else [{"name": "api-keys", "mountPath": "/etc/creditguard", "readOnly": True}],
        "resources": {
            "requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit},
        },
        "livenessProbe": _probe("/health/live", spec.port, period=10, failures=3),
        # Not ready while the database or broker is unreachable: traffic goes to healthy pods.
        "readinessProbe": _probe("/health/ready", spec.port, period=5, failures=2),
        "startupProbe": _probe("/health/live", spec.port, period=2, failures=30),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    migrate = {
        "name": "migrate",
        "image": IMAGE,
        # Replicas starting together serialise on an advisory lock inside the migration.
        "command": [*command, "migrate"],
        "env": env[:2] if spec.name == "alerts" else env[:1],
        "securityContext": container["securityContext"],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"creditguard-{spec.name}", "namespace": NAMESPACE, "labels": _labels(spec.name)},
        "spec": {
            "replicas": spec.min_replicas,
            "selector": {"matchLabels": _labels(spec.name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": _labels(spec.name),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(spec.port), "prometheus.io/path": "/metrics"},
                },
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "initContainers": [migrate],
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
                    if spec.name == CONSOLE
                    else [{"name": "api-keys", "secret": {"secretName": "creditguard-secrets", "items": [{"key": "api-keys.json", "path": "api-keys.json"}]}}],
                },
            },
        },
    }


def service(spec: ServiceSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"creditguard-{spec.name}", "namespace": NAMESPACE, "labels": _labels(spec.name)},
        "spec": {"selector": _labels(spec.name), "ports": [{"name": "http", "port": spec.port, "targetPort": "http"}]},
    }


def autoscaler(spec: ServiceSpec) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"creditguard-{spec.name}", "namespace": NAMESPACE, "labels": _labels(spec.name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"creditguard-{spec.name}"},
            "minReplicas": spec.min_replicas,
            "maxReplicas": spec.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
        },
    }


def disruption_budget(spec: ServiceSpec) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"creditguard-{spec.name}", "namespace": NAMESPACE, "labels": _labels(spec.name)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": _labels(spec.name)}},
    }


def shared_resources() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "creditguard-config", "namespace": NAMESPACE},
            "data": {
                "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap.kafka.svc:9092",
                "KAFKA_ENABLE_IDEMPOTENCE": "true",
                "KAFKA_ACKS": "all",
                "SCORING_LOG_JSON": "true",
                "LIMITS_LOG_JSON": "true",
                "ALERTS_LOG_JSON": "true",
                "CONSOLE_LOG_JSON": "true",
                "CONSOLE_SCORING_URL": "http://creditguard-scoring:8001",
                "CONSOLE_LIMITS_URL": "http://creditguard-limits:8002",
                "CONSOLE_ALERTS_URL": "http://creditguard-alerts:8003",
            },
        },
    ]


def manifests() -> list[dict]:
    documents = shared_resources()
    for spec in SERVICES:
        documents += [deployment(spec), service(spec), autoscaler(spec), disruption_budget(spec)]
    return documents


def render() -> str:
    header = "# Generated by deploy/kubernetes/build_manifests.py; edit that file, not this one.\n"
    return header + yaml.safe_dump_all(manifests(), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.write_text(render())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
