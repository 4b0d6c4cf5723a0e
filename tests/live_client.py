"""A graphql-transport-ws client over a real websocket, small enough to see every frame
and close code the server sends (tests of subscriptions)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"


class LiveClient:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = 0
        # Results received while waiting for another operation's, by operation id.
        self._held: dict[str, list[dict[str, Any]]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def raw(self, timeout: float = 10) -> dict[str, Any]:
        """The next message, whatever it is."""
        async with asyncio.timeout(timeout):
            message: dict[str, Any] = json.loads(await self.socket.recv())
        return message

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next message other than a ping (answered with a pong)."""
        while True:
            message = await self.raw(timeout)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, document: str, **variables: Any) -> str:
        self._ids += 1
        operation = str(self._ids)
        payload = {"query": document, "variables": variables}
        await self.send({"id": operation, "type": "subscribe", "payload": payload})
        return operation

    async def next(self, operation: str | None = None, timeout: float = 10) -> dict[str, Any]:
        """The next result (of `operation` when given)."""
        for held_id, held in self._held.items():
            if held and operation in (None, held_id):
                return held.pop(0)
        while True:
            message = await self.receive(timeout)
            if message["type"] not in {"next", "error"}:
                raise AssertionError(f"unexpected message {message}")
            if operation is None or message["id"] == operation:
                return message
            self._held.setdefault(message["id"], []).append(message)

    async def nothing_within(self, seconds: float) -> bool:
        """Whether no result arrives within `seconds`."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    async def closed(self, timeout: float = 10) -> tuple[int | None, str | None]:
        """(code, reason) the server closed the socket with."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.socket.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, None)


@asynccontextmanager
async def live_client(
    http_url: str, payload: dict[str, Any] | None = None
) -> AsyncIterator[LiveClient]:
    """A connection to the server's /graphql; acknowledged when `payload` is given."""
    url = http_url.replace("http://", "ws://", 1)
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as socket:  # type: ignore[list-item]
        client = LiveClient(socket)
        if payload is not None:
            ack = await client.init(payload)
            assert ack["type"] == "connection_ack", ack
        yield client


@asynccontextmanager
async def read_slowly(http_url: str, payload: dict[str, Any]) -> AsyncIterator[LiveClient]:
    """An acknowledged connection whose socket holds at most a few kilobytes unread: a
    client that stops reading backs the server's sends up at once (the kernel does not
    grow a receive buffer set by hand). It negotiates no compression: deflated, a
    delivery of repeated text is a few dozen bytes, and nothing backs up."""
    address = urlsplit(http_url)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (address.hostname, address.port))
    url = http_url.replace("http://", "ws://", 1)
    async with connect(
        url,
        sock=raw,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        open_timeout=10,
        max_queue=1,
        max_size=None,
        compression=None,
    ) as connection:
        client = LiveClient(connection)
        ack = await client.init(payload)
        assert ack["type"] == "connection_ack", ack
        yield client
