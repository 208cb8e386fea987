"""A loopback TCP proxy in front of the broker. Cutting it is a broker outage that keeps the
broker's state, as a restarted Apache Kafka would (the local tansu broker keeps its log only in
memory, so stopping its process would also reset offsets, which Kafka never does)."""

from __future__ import annotations

import asyncio
import contextlib


class NetworkCut:
    def __init__(self, *, listen_port: int, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.listen_port = listen_port
        self.target_port = target_port
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def connect(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.listen_port, reuse_address=True)

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers.update({client_writer, upstream_writer})

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        self._writers.difference_update({client_writer, upstream_writer})
