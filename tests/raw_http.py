"""HTTP/1.1 over a bare socket, for what an HTTP client library will not do: send a request
whose body never completes, or stop reading a response."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def open_connection(
    url: str, *, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the server at `url`; `receive_buffer` shrinks the socket's receive
    buffer (set before connecting, so the TCP window is small from the start)."""
    parts = urlsplit(url)
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    return await asyncio.open_connection(sock=sock, limit=2**20)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    """One response with a Content-Length body (what the gateway's refusals have)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawResponse(int(status_line.split()[1]), headers, body)


async def unfinished_request(
    url: str, path: str, headers: dict[str, str], body_start: bytes, declared_length: int
) -> RawResponse:
    """Send the headers (declaring `declared_length` body bytes) and only `body_start`
    of the body, then read the answer the server gives without the rest."""
    reader, writer = await open_connection(url)
    try:
        writer.write(
            request_head("POST", path, {**headers, "Content-Length": str(declared_length)})
        )
        writer.write(body_start)
        await writer.drain()
        return await read_response(reader)
    finally:
        writer.close()
