"""uvicorn's HTTP protocol, bounded by the server's timeouts (gateway.server_timeouts).

uvicorn times out an idle keep-alive connection, but not one that is slow to send its
headers: a connection that sends half a request header, or nothing at all, stays open
for as long as its client likes, and a few thousand of them exhaust the server's file
descriptors. `HeaderTimeoutProtocol` closes such a connection once `header_timeout`
passes: counted from the connection's opening for its first request, and from the first
byte of each later one (the keep-alive timeout covers the idle time between requests).

Nor does uvicorn bound a client that stops reading. A response whose bytes back up waits
in `send` (a task and its answer held), and closing a connection (after the keep-alive
time, or after an export cut off by its own send timeout) waits for what is still
buffered to be sent: a client that never reads keeps both, and the server's graceful
shutdown waits on them, for ever. The protocol aborts a connection that could not send
for `send_timeout` seconds: writes paused that long by a full buffer, or a close still
holding unsent bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.server_timeouts import ServerTimeouts


def uvicorn_options(timeouts: ServerTimeouts) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config: the protocol below, the
    keep-alive time, the concurrency cap, and no `server` banner."""
    return {
        "http": partial(
            HeaderTimeoutProtocol,
            header_timeout=timeouts.header_timeout,
            send_timeout=timeouts.send_timeout,
        ),
        "timeout_keep_alive": timeouts.keep_alive_timeout,
        "limit_concurrency": timeouts.limit_concurrency,
        "server_header": False,
    }


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers do not
    arrive whole within `header_timeout` seconds, and aborting one that cannot send for
    `send_timeout` seconds (see the module doc)."""

    def __init__(
        self, *args: Any, header_timeout: float, send_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.send_timeout = send_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvicorn closes the transport it holds from several places: handing it one whose
        # close starts the send timer is the one point that sees them all.
        super().connection_made(_BoundedClose(transport, self._start_send_timer))  # type: ignore[arg-type]
        self._start_header_timer()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._start_send_timer()

    def resume_writing(self) -> None:
        self._stop_send_timer()
        super().resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._start_header_timer()  # the first byte of the next request
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._stop_send_timer()
        super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _start_send_timer(self) -> None:
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.send_timeout, self._send_too_slow)

    def _stop_send_timer(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_too_slow(self) -> None:
        self._send_timer = None
        self.transport.abort()  # nothing it still holds will be read


class _BoundedClose:
    """A transport whose close, when bytes are still waiting to be sent, also starts
    the protocol's send timer (uvloop's transports cannot be patched in place)."""

    def __init__(self, transport: asyncio.Transport, on_unsent: Callable[[], None]) -> None:
        self._transport = transport
        self._on_unsent = on_unsent

    def close(self) -> None:
        self._transport.close()
        if self._transport.get_write_buffer_size():
            self._on_unsent()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
