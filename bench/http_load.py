"""HTTP/1.1 load generators for the benchmarks. Closed loop: N clients, each on its own
keep-alive connection, each sending its next request as soon as the previous answer arrives
(throughput at saturation). Open loop: requests leave on a fixed schedule whatever the server's
pace, and each latency runs from the request's scheduled time, so time spent queueing behind a
slow answer counts (latency at a stated offered load).

httpx spends about 3 ms of CPU per request here, so on a 2-core machine it measured itself
(a trivial endpoint topped out near 300 requests/s). This client writes pre-encoded requests on
raw asyncio streams and parses only the status line, Content-Length and body, so the server is
what gets measured. It speaks just enough HTTP for our own loopback services: no chunked
bodies, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    elapsed_seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed_seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def encode_post(url: str, body: object, *, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    else:
        raise ValueError(f"response without Content-Length: {head[:200]!r}")
    return status, await reader.readexactly(length)


async def run_closed_loop(url: str, requests: Sequence[bytes], *, concurrency: int, keep_bodies: bool = False) -> LoadResult:
    """Send every pre-encoded request once, ``concurrency`` at a time, and time each one."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    pending = list(reversed(requests))
    result = LoadResult(elapsed_seconds=0.0)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while pending:
                request = pending.pop()
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if keep_bodies:
                    result.bodies.append(body)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed_seconds = time.perf_counter() - started
    return result


@dataclass
class OpenLoopResult(LoadResult):
    offered_rate: float = 0.0
    # Requests that left more than a millisecond after their scheduled time: the generator fell
    # behind (its latencies still run from the schedule).
    late_starts: int = 0
    connections: int = 0

    @property
    def max_latency(self) -> float:
        return max(self.latencies) if self.latencies else 0.0


async def run_open_loop(url: str, requests: Sequence[bytes], *, rate: float, max_connections: int = 512) -> OpenLoopResult:
    """Send request i at ``i / rate`` seconds after the start on an idle keep-alive connection
    (a new one when all are busy, up to ``max_connections``; beyond that it waits for one), and
    time it from its scheduled send time."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened: list[asyncio.StreamWriter] = []
    result = OpenLoopResult(elapsed_seconds=0.0, offered_rate=rate)

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not idle.empty() or len(opened) >= max_connections:
            return await idle.get()
        reader, writer = await asyncio.open_connection(host, port)
        opened.append(writer)
        return reader, writer

    async def send(request: bytes, scheduled: float) -> None:
        reader, writer = await connection()
        writer.write(request)
        status, _ = await _read_response(reader)
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        idle.put_nowait((reader, writer))

    loop_start = time.perf_counter()
    in_flight = []
    for index, request in enumerate(requests):
        scheduled = loop_start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.001:
            result.late_starts += 1
        in_flight.append(asyncio.create_task(send(request, scheduled)))
    await asyncio.gather(*in_flight)
    result.elapsed_seconds = time.perf_counter() - loop_start
    result.connections = len(opened)
    for writer in opened:
        writer.close()
    return result
