"""A real HTTP webhook receiver on a free loopback port, started by the test: it verifies every
request with the reference Standard Webhooks library and can be switched down (503) and up."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from creditguard_local.stack import free_port


@dataclass
class Received:
    webhook_id: str
    payload: dict[str, Any]
    verified: bool
    # perf_counter() on arrival, for the benchmark's delays.
    at: float = field(default_factory=time.perf_counter)


@dataclass
class WebhookReceiver:
    port: int
    secret: str | None = None
    down: bool = False
    accepted: list[Received] = field(default_factory=list)
    refused_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def accepted_of(self, event_type: str) -> list[Received]:
        return [r for r in self.accepted if r.payload["type"] == event_type]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers.items())
        if self.down:
            self.refused_ids.append(headers["webhook-id"])
            return Response(status_code=503)
        signed = self._verified(body, headers)
        self.accepted.append(Received(headers["webhook-id"], json.loads(body) if signed is None else signed, signed is not None))
        return Response(status_code=400 if signed is None else 204)

    def _verified(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        """The payload of a delivery signed with the subscription's secret; None when it is not (or no secret is set yet)."""
        if self.secret is None:
            return None
        try:
            payload: dict[str, Any] = Webhook(self.secret).verify(body, headers)
        except Exception:  # noqa: BLE001 - an unverifiable delivery is recorded as such and answered 400
            return None
        return payload


async def start_receiver() -> tuple[WebhookReceiver, uvicorn.Server, asyncio.Task]:
    receiver = WebhookReceiver(port=free_port())
    app = Starlette(routes=[Route("/hooks", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=receiver.port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn's Server sets a flag, it has no event to wait on
        await asyncio.sleep(0.02)
    return receiver, server, task
