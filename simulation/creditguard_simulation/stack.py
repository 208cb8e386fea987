"""Where the live system is: one the simulator starts itself (broker, topics, keys, migrated
SQLite databases, the three services on free loopback ports, clocks under its control) or one
already running (``make run``; URLs and keys from var/dev-api-keys.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from creditguard_local.stack import Broker, create_topics, free_port, service_processes
from creditguard_shared.auth.keys import Role, add_key


@dataclass(frozen=True)
class Endpoints:
    scoring: str
    limits: str
    alerts: str
    keys: dict[str, str]
    # The services' broker: the simulator waits on it for each day's events (see settling.py).
    bootstrap_servers: str | None = None


def simulation_env(*, webhook_networks: str = "127.0.0.1/32") -> dict[str, str]:
    """Settings the simulator needs: clocks it can move, jobs it triggers itself, loopback webhooks."""
    env = {"ALERTS_WEBHOOK_ALLOWED_NETWORKS": webhook_networks}
    for service in ("SCORING", "LIMITS", "ALERTS"):
        env[f"{service}_CLOCK_CONTROL_ENABLED"] = "true"
        env[f"{service}_LOG_LEVEL"] = "WARNING"
    # The simulator runs the daily jobs through their run-now endpoints once per simulated day.
    env["LIMITS_DAILY_SWEEP_INTERVAL_SECONDS"] = "86400"
    env["ALERTS_SWEEP_INTERVAL_SECONDS"] = "86400"
    env["SCORING_RESCORE_INTERVAL_SECONDS"] = "86400"
    return env


@contextmanager
def own_stack(var_dir: Path, policy: dict | None = None) -> Iterator[Endpoints]:
    """``policy``: a credit policy for limits (the packaged one when None), written beside the databases."""
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "logs").mkdir(exist_ok=True)
    for stale in ("scoring.db", "limits.db", "alerts.db", "api-keys.json", "credit_policy.json"):
        (var_dir / stale).unlink(missing_ok=True)
    extra_env = simulation_env()
    if policy is not None:
        (var_dir / "credit_policy.json").write_text(json.dumps(policy, indent=2))
        extra_env["LIMITS_POLICY_FILE"] = str(var_dir / "credit_policy.json")
    broker = Broker(log_path=var_dir / "logs" / "broker.log")
    broker.start()
    processes = []
    try:
        create_topics(broker.bootstrap_servers)
        keys = {role.value: add_key(var_dir / "api-keys.json", role=role, name=f"simulation {role.value}")[0] for role in Role}
        processes = service_processes(
            var_dir=var_dir,
            bootstrap_servers=broker.bootstrap_servers,
            ports={name: free_port() for name in ("scoring", "limits", "alerts")},
            extra_env=extra_env,
        )
        for process in processes:
            process.migrate()
            process.start()
        for process in processes:
            process.wait_ready(timeout=60)
        urls = {p.name: p.base_url for p in processes}
        yield Endpoints(scoring=urls["scoring"], limits=urls["limits"], alerts=urls["alerts"], keys=keys, bootstrap_servers=broker.bootstrap_servers)
    finally:
        for process in reversed(processes):
            process.stop()
        broker.stop()


def running_stack(keys_file: Path, *, scoring: str, limits: str, alerts: str, bootstrap_servers: str | None = None) -> Endpoints:
    return Endpoints(scoring=scoring, limits=limits, alerts=alerts, keys=json.loads(keys_file.read_text()), bootstrap_servers=bootstrap_servers)
