"""The headers every answer of /graphql carries, refusals at the edge included: a browser
must not sniff a JSON answer into something it would render, and no cache (a browser's,
a proxy's) may keep an answer that was meant for one credential."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EDGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class EdgeHeaders:
    """Adds EDGE_HEADERS to every response of `app` that does not set them itself,
    including the plain-text refusals Strawberry writes on its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = raw = list(message.get("headers", []))
                headers = MutableHeaders(raw=raw)
                for name, value in EDGE_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, sending)
