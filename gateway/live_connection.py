"""One websocket connection of graphql-transport-ws on /graphql: Strawberry's handler of
the protocol, with PayGraph's credential, limits and liveness.

- The credential comes in `connection_init`'s payload, as `Authorization: Bearer <JWT>`
  or `X-Api-Token` (keys in any case), and is verified exactly as over HTTP
  (gateway.request_guard.Credentials); a bad one closes the socket with 4403.
- The connection is closed when the JWT expires (4401), when it has been open
  PAYGRAPH_SUBSCRIPTION_MAX_LIFETIME seconds (1001, "going away": clients reconnect), and
  when one of its subscriptions falls PAYGRAPH_SUBSCRIPTION_QUEUE changes behind (4008,
  a slow consumer). A credential holds at most
  PAYGRAPH_SUBSCRIPTION_CONNECTIONS_PER_CREDENTIAL connections per process (4429).
- The server pings every PAYGRAPH_SUBSCRIPTION_PING_INTERVAL seconds.
- Only subscriptions run here: queries and mutations go over HTTP, where their deadline,
  body limits and idempotency keys apply (an `error` message says so)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from domain.errors import Unauthenticated
from domain.principal import Principal
from domain.throttle import credential_key
from gateway.live_hub import LiveHub
from gateway.request_guard import Credentials
from gateway.subscription_settings import SubscriptionSettings
from resolvers.context import Context

logger = logging.getLogger("paygraph.subscriptions")

# Close codes (graphql-transport-ws's own where it has one).
FORBIDDEN = (4403, "Forbidden")
TOKEN_EXPIRED = (4401, "Token expired")
TOO_MANY_CONNECTIONS = (4429, "Too many connections for this credential")
SLOW_CONSUMER = (4008, "Slow consumer")
LIFETIME_REACHED = (1001, "Connection lifetime reached")
INTERNAL_ERROR = (4500, "Internal server error")

# Builds a connection's context: its principal, and the callback of a slow consumer.
ContextFactory = Callable[[Principal, Any, Callable[[], None]], Context]


class LiveConnections:
    """What every connection of one app shares: the hub, the settings, the credential
    check, and how many connections each credential holds in this process."""

    def __init__(
        self,
        hub: LiveHub,
        settings: SubscriptionSettings,
        credentials: Credentials,
        context: ContextFactory,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.credentials = credentials
        self.context = context
        self._held: Counter[str] = Counter()

    def claim(self, key: str) -> bool:
        if self._held[key] >= self.settings.max_connections:
            return False
        self._held[key] += 1
        return True

    def release(self, key: str) -> None:
        self._held[key] -= 1
        if self._held[key] <= 0:
            del self._held[key]


def sent_credentials(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(Authorization, X-Api-Token) from a `connection_init` payload, its keys in any case;
    values that are not text count as absent."""
    found = {str(key).lower(): value for key, value in payload.items()}

    def text(name: str) -> str | None:
        value = found.get(name)
        return value if isinstance(value, str) else None

    return text("authorization"), text("x-api-token")


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages as text frames (the view encodes JSON to bytes, which Strawberry would
    send as binary frames, which graphql-transport-ws clients refuse). A send on a socket
    already closed (a slow consumer dropped) counts as a disconnection."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error
        except RuntimeError as error:
            if self.ws.application_state is WebSocketState.DISCONNECTED:
                raise WebSocketDisconnected from error
            raise


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, authenticating `connection_init` and
    bounding the connection (see the module's docstring)."""

    async def handle(self) -> None:
        live: LiveConnections = self.view.live  # type: ignore[attr-defined]
        self._live = live
        self._held: str | None = None
        self._dropped = False
        self._timers: list[asyncio.Task[None]] = []
        self._later(live.settings.max_lifetime, lambda: self._close(*LIFETIME_REACHED))
        try:
            await super().handle()
        finally:
            for task in self._timers:
                task.cancel()
            if self._held is not None:
                live.release(self._held)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if self.connection_init_received or not isinstance(payload, dict):
            await super().handle_connection_init(message)  # 4429 or 4400, as Strawberry says
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        try:
            principal, expires = await self._live.credentials.verified(*sent_credentials(payload))
        except Unauthenticated:
            await self._close(*FORBIDDEN)
            return
        except Exception:  # e.g. the database is down while checking an API token
            logger.exception("websocket authentication failed unexpectedly")
            await self._close(*INTERNAL_ERROR)
            return
        key = credential_key(principal)
        if not self._live.claim(key):
            await self._close(*TOO_MANY_CONNECTIONS)
            return
        self._held = key
        self.context = self._live.context(principal, self.websocket, self._overflowed)
        if expires is not None:
            self._later(expires - time.time(), lambda: self._close(*TOKEN_EXPIRED))
        if self._live.settings.ping_interval > 0:
            self._timers.append(asyncio.create_task(self._ping()))
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not _subscribes(message.get("payload") or {}):
            error = GraphQLError(
                "Only subscriptions run over the websocket; send queries and mutations over HTTP.",
                extensions={"code": "BAD_REQUEST"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    def _overflowed(self) -> None:
        """A subscription fell a whole queue behind: drop the connection, once."""
        if not self._dropped:
            self._dropped = True
            logger.warning("subscriptions: dropping a slow consumer")
            self._timers.append(asyncio.create_task(self._close(*SLOW_CONSUMER)))

    def _later(self, seconds: float, then: Callable[[], Awaitable[None]]) -> None:
        async def wait_then() -> None:
            await asyncio.sleep(max(seconds, 0))
            await then()

        self._timers.append(asyncio.create_task(wait_then()))

    async def _ping(self) -> None:
        interval = self._live.settings.ping_interval
        with contextlib.suppress(WebSocketDisconnected, RuntimeError):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def _close(self, code: int, reason: str) -> None:
        # Closing a socket the client or another timer closed already is no error.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.websocket.close(code=code, reason=reason)


def _subscribes(payload: Mapping[str, Any]) -> bool:
    """Whether a subscribe message's operation is a subscription; a document that does
    not parse or name its operation is left to Strawberry, which answers it."""
    query = payload.get("query")
    name = payload.get("operationName")
    if not isinstance(query, str) or not isinstance(name, str | None):
        return True
    try:
        operation = get_operation_ast(parse(query), name)
    except GraphQLSyntaxError:
        return True
    return operation is None or operation.operation is OperationType.SUBSCRIPTION
