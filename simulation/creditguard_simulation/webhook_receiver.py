"""The sales system's webhook endpoint, faked on 127.0.0.1: it keeps what creditguard sends."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from creditguard_local.stack import free_port


@dataclass
class WebhookReceiver:
    port: int = field(default_factory=free_port)
    received: list[dict] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None
    _unread: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/creditguard/webhooks"

    async def _receive(self, request: Request) -> Response:
        try:
            self.received.append(json.loads(await request.body()))
        except ValueError:
            self.received.append({})
        return Response(status_code=204)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/creditguard/webhooks", self._receive, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 - uvicorn's Server sets a flag, it has no event to wait on
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server and self._task:
            self._server.should_exit = True
            await self._task

    def take_new(self) -> list[dict]:
        """What arrived since the last call."""
        new = self.received[self._unread :]
        self._unread = len(self.received)
        return new
