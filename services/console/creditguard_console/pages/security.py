"""Headers every page carries, and the paths that are for machines rather than people."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Machine-facing paths answer problem+json; every other path is a page for a person.
MACHINE_PATHS = ("/health", "/metrics", "/openapi.json", "/docs", "/redoc")
SECURITY_HEADERS = [
    # Scripts only from this site (htmx is served from /static); styles may be inline, as htmx adds its own.
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(MACHINE_PATHS):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)
