"""``make run`` (creditguard_local.stack) as real processes on loopback: a second one never
takes the first one's ports nor joins its broker (it takes free ports, or refuses when told to
keep its ports, or refuses a var directory in use); a service killed with SIGKILL comes back and
loses no document; the broker comes back on its own port; keys and databases are owner-only."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from creditguard_local.stack import free_port, owns_listener, read_stack_file

# Starting whole systems side by side on a busy 2-core machine can outlast pytest.ini's 300 s.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# make run itself waits up to 180 s for each service to answer.
START_TIMEOUT = 420.0


@dataclass
class RunningStack:
    var_dir: Path
    process: subprocess.Popen
    output: Path

    @property
    def description(self) -> dict:
        return read_stack_file(self.var_dir)

    def port(self, name: str) -> int:
        return self.description["processes"][name]["port"]

    def pid(self, name: str) -> int:
        return self.description["processes"][name]["pid"]

    def pids(self) -> set[int]:
        return {entry["pid"] for entry in self.description["processes"].values() if entry["pid"]}

    def url(self, name: str) -> str:
        return self.description["processes"][name]["url"]

    def auth(self, role: str) -> dict[str, str]:
        keys = json.loads((self.var_dir / "dev-api-keys.json").read_text())
        return {"Authorization": f"Bearer {keys[role]}"}

    def log(self) -> str:
        return self.output.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _preferred_ports(broker: int, services: tuple[int, int, int, int]) -> dict[str, str]:
    scoring, limits, alerts, console = services
    return {
        "CREDITGUARD_BROKER_PORT": str(broker),
        "SCORING_PORT": str(scoring),
        "LIMITS_PORT": str(limits),
        "ALERTS_PORT": str(alerts),
        "CONSOLE_PORT": str(console),
    }


def _launch(var_dir: Path, ports: dict[str, str], *args: str) -> tuple[subprocess.Popen, Path]:
    var_dir.mkdir(parents=True, exist_ok=True)
    output = var_dir.parent / f"{var_dir.name}.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "ALERTS_", "LIMITS_", "SCORING_", "CONSOLE_", "CREDITGUARD_"))}
    env.update(ports)
    process = subprocess.Popen(
        [sys.executable, "-m", "creditguard_local.stack", "--var-dir", str(var_dir), *args],
        env=env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, output


def _announced_by(var_dir: Path, pid: int) -> bool:
    """Whether this make run wrote the ports file (one killed earlier may have left its own)."""
    try:
        return read_stack_file(var_dir)["supervisor_pid"] == pid
    except (OSError, ValueError, KeyError):
        return False


def _start(var_dir: Path, ports: dict[str, str]) -> RunningStack:
    process, output = _launch(var_dir, ports)
    stack = RunningStack(var_dir=var_dir, process=process, output=output)
    deadline = time.monotonic() + START_TIMEOUT
    while not _announced_by(var_dir, process.pid):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise AssertionError(f"make run did not come up:\n{output.read_text()}")
        time.sleep(0.2)
    return stack


def _remote_ports_of(pids: set[int]) -> set[int]:
    """The ports the established TCP connections of these processes lead to (any address)."""
    established: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01":
                established[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    ports = set()
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # exited meanwhile
            continue
        for descriptor in descriptors:
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in established:
                ports.add(established[target[8:-1]])
    return ports


def _wait(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except (AssertionError, OSError, KeyError, ValueError, httpx.HTTPError) as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {timeout}s (last: {last!r})")


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    var_dir = tmp_path_factory.mktemp("make-run") / "var"
    # Free ports as the preferred ones: the machine's 9092 and 8001-8004 may belong to someone else.
    stack = _start(var_dir, _preferred_ports(free_port(), (free_port(), free_port(), free_port(), free_port())))
    yield stack
    stack.stop()
    assert stack.process.returncode == 0, stack.log()
    assert not (var_dir / "stack.json").exists()


def test_keys_and_databases_are_readable_by_their_owner_only(first):
    private = ["api-keys.json", "dev-api-keys.json", "dev-users.json", "webhook-secret-keys", "scoring.db", "limits.db", "alerts.db", "console.db"]
    for name in private:
        mode = stat.S_IMODE((first.var_dir / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    for wal in first.var_dir.glob("*.db-wal"):
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600, wal


def test_a_second_make_run_takes_free_ports_and_never_joins_the_first(first, tmp_path):
    taken = _preferred_ports(first.port("broker"), tuple(first.port(name) for name in ("scoring", "limits", "alerts", "console")))

    # Told to keep its ports, it refuses at once and starts nothing.
    refused, output = _launch(tmp_path / "fixed", taken, "--fixed-ports")
    assert refused.wait(timeout=60) == 1
    assert f"port {first.port('broker')} (broker) is in use by another program" in output.read_text()
    assert not (tmp_path / "fixed" / "stack.json").exists()

    # The same var directory (its databases and keys) is refused while the first one runs.
    same_dir, output = _launch(first.var_dir, taken)
    assert same_dir.wait(timeout=60) == 2
    assert "another make run is using" in output.read_text()

    second = _start(tmp_path / "second", taken)
    try:
        ours, theirs = first.description, second.description
        assert {p["port"] for p in theirs["processes"].values()}.isdisjoint({p["port"] for p in ours["processes"].values()})
        assert theirs["bootstrap_servers"] != ours["bootstrap_servers"]
        assert f"port {first.port('broker')} (broker) is in use by another program; using {second.port('broker')}" in second.log()
        # Every process of the second system is its own: it holds its port...
        for name in ("broker", "scoring", "limits", "alerts", "console"):
            assert owns_listener(second.pid(name), second.port(name)), name
        # ...and the services talk to their own broker, never to the first one's.
        service_pids = {second.pid(name) for name in ("scoring", "limits", "alerts")}
        _wait(lambda: second.port("broker") in _remote_ports_of(service_pids), timeout=30, what="the second system's services connecting to its broker")
        assert first.port("broker") not in _remote_ports_of(second.pids())
        assert not {first.port(name) for name in ("scoring", "limits", "alerts", "console")} & _remote_ports_of(second.pids())
        # And it works: a document posted to it is there.
        invoice = {
            "invoice_id": f"I-{uuid.uuid4().hex[:8]}",
            "buyer_id": "B-second",
            "amount": "100.00",
            "currency": "EUR",
            "issued_on": "2026-09-01",
            "due_on": "2026-10-01",
        }
        assert httpx.post(f"{second.url('limits')}/v1/invoices", json=invoice, headers=second.auth("erp"), timeout=10).status_code == 201
    finally:
        second.stop()
    assert second.process.returncode == 0, second.log()


def _post_invoices(stack: RunningStack, buyers: list[str], batch: str) -> list[str]:
    ids = []
    with httpx.Client(timeout=15) as http:
        for number, buyer in enumerate(buyers):
            invoice_id = f"{buyer}-{batch}-{number}"
            body = {"invoice_id": invoice_id, "buyer_id": buyer, "amount": "1000.00", "currency": "EUR", "issued_on": "2026-09-01", "due_on": "2026-10-01"}
            response = http.post(f"{stack.url('limits')}/v1/invoices", json=body, headers=stack.auth("erp"))
            assert response.status_code == 201, response.text
            ids.append(invoice_id)
    return ids


def _known_everywhere(stack: RunningStack, buyers: list[str], expected: set[str]) -> bool:
    seen_by_limits, seen_by_alerts = set(), set()
    with httpx.Client(timeout=10) as http:
        for buyer in set(buyers):
            seen_by_limits |= {i["invoice_id"] for i in http.get(f"{stack.url('limits')}/v1/buyers/{buyer}/invoices", headers=stack.auth("sales")).json()}
            response = http.get(f"{stack.url('alerts')}/v1/buyers/{buyer}/receivables", headers=stack.auth("sales"))
            seen_by_alerts |= {r["invoice_id"] for r in response.json()} if response.status_code == 200 else set()
    assert seen_by_limits == expected, expected - seen_by_limits
    assert seen_by_alerts == expected, expected - seen_by_alerts
    return True


def _restarted(stack: RunningStack, name: str, old_pid: int) -> int:
    def back() -> int | None:
        entry = stack.description["processes"][name]
        if entry["pid"] in (None, old_pid):
            return None
        return entry["pid"] if httpx.get(f"{entry['url']}/health/live", timeout=2).status_code == 200 else None

    return _wait(back, timeout=90, what=f"{name} coming back")


def test_a_service_killed_under_make_run_comes_back_and_loses_nothing(first):
    buyers = [f"B-{uuid.uuid4().hex[:6]}" for _ in range(4)] * 3
    posted = _post_invoices(first, buyers, "before")

    # A consumer dies: documents posted meanwhile wait in the broker and the outbox.
    alerts_pid = first.pid("alerts")
    os.kill(alerts_pid, signal.SIGKILL)
    posted += _post_invoices(first, buyers, "alerts-down")
    _restarted(first, "alerts", alerts_pid)

    # The service taking the documents dies: it comes back on the same address.
    limits_pid, limits_url = first.pid("limits"), first.url("limits")
    os.kill(limits_pid, signal.SIGKILL)
    _restarted(first, "limits", limits_pid)
    assert first.url("limits") == limits_url
    posted += _post_invoices(first, buyers, "after")

    _wait(lambda: _known_everywhere(first, buyers, set(posted)), timeout=90, what="every invoice reaching limits and alerts")
    restarts = {name: entry["restarts"] for name, entry in first.description["processes"].items()}
    assert restarts["alerts"] == 1 and restarts["limits"] == 1 and restarts["scoring"] == 0, restarts
    assert first.process.poll() is None, "make run stopped"
    assert "alerts exited (-9); starting it again" in first.log() and "limits is back" in first.log()


def test_the_broker_comes_back_on_its_own_port(first):
    port, old_pid = first.port("broker"), first.pid("broker")
    os.kill(old_pid, signal.SIGKILL)

    def back() -> int | None:
        pid = first.description["processes"]["broker"]["pid"]
        return pid if pid not in (None, old_pid) and owns_listener(pid, port) else None

    new_pid = _wait(back, timeout=60, what="the broker coming back")
    assert first.port("broker") == port and new_pid != old_pid
    assert f"broker is back on 127.0.0.1:{port}" in first.log()
    # The services reconnect to it (never to anything else).
    service_pids = {first.pid(name) for name in ("scoring", "limits", "alerts")}
    _wait(lambda: port in _remote_ports_of(service_pids), timeout=60, what="the services reconnecting to the broker")


def test_make_run_killed_outright_is_replaced_by_the_next_and_keeps_its_data(first):
    buyers = [f"B-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    posted = set(_post_invoices(first, buyers, "kept"))
    _wait(lambda: _known_everywhere(first, buyers, posted), timeout=60, what="the invoices reaching limits and alerts")
    keys, webhook_key = (first.var_dir / "dev-api-keys.json").read_text(), (first.var_dir / "webhook-secret-keys").read_text()
    left = first.pids()

    # SIGKILL leaves the broker and the services running, holding the databases.
    first.process.kill()
    first.process.wait()
    assert all(Path(f"/proc/{pid}").exists() for pid in left)
    ports = {name: str(first.port(name)) for name in ("broker", "scoring", "limits", "alerts", "console")}
    again = _start(first.var_dir, _preferred_ports(int(ports["broker"]), tuple(int(ports[n]) for n in ("scoring", "limits", "alerts", "console"))))
    first.process, first.output = again.process, again.output
    assert "left running by an earlier make run" in first.log()
    assert not any(Path(f"/proc/{pid}").exists() and b"creditguard" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left)
    # The ports the leftovers held are free again, so the new system has the same ones.
    assert {name: str(first.port(name)) for name in ports} == ports
    assert (first.var_dir / "dev-api-keys.json").read_text() == keys
    assert (first.var_dir / "webhook-secret-keys").read_text() == webhook_key
    _wait(lambda: _known_everywhere(first, buyers, posted), timeout=60, what="the invoices still being there")


def test_key_files_and_sqlite_databases_are_created_owner_only(tmp_path):
    """Outside make run too: the key CLI and every SQLite engine create their files 0600."""
    import asyncio

    from creditguard_shared.auth.cli import main as keys_main
    from creditguard_shared.database import create_engine

    keys_main(["--file", str(tmp_path / "api-keys.json"), "dev", "--plaintext-out", str(tmp_path / "dev-api-keys.json")])
    keys_main(["--file", str(tmp_path / "api-keys.json"), "create", "--role", "erp", "--name", "erp"])

    async def touch_database() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
        async with engine.begin() as connection:
            from sqlalchemy import text

            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        await engine.dispose()

    asyncio.run(touch_database())
    for name in ("api-keys.json", "dev-api-keys.json", "service.db"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_restart_back_off_doubles_to_its_cap_and_resets_after_a_stable_run():
    from creditguard_local.stack import STABLE_AFTER_SECONDS, Broker, Supervised

    entry = Supervised("broker", Broker(port=1), started_at=0.0)
    delays = []
    for _ in range(7):
        delays.append(entry.schedule_restart(now=1.0))
        entry.restart_at, entry.started_at = None, 1.0
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    # Up for a minute before dying again: the next start comes quickly.
    assert entry.schedule_restart(now=1.0 + STABLE_AFTER_SECONDS) == 1.0
