"""How `paygraph serve` bounds its connections: a time to send the request headers,
an idle keep-alive time, a cap on concurrent connections and requests, and no `server`
banner.

uvicorn times out an idle keep-alive connection, but not one that is slow to send its
headers: a connection that sends half a request header, or nothing at all, stays open
for as long as its client likes, and a few thousand of them exhaust the server's file
descriptors. `HeaderTimeoutProtocol` closes such a connection once `header_timeout`
passes: counted from the connection's opening for its first request, and from the first
byte of each later one (the keep-alive timeout covers the idle time between requests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.settings import SettingsError, env_int, env_seconds


class ServerTimeoutsError(SettingsError):
    """A PAYGRAPH_HEADER_TIMEOUT, _KEEP_ALIVE_TIMEOUT or _LIMIT_CONCURRENCY value is
    unusable."""


@dataclass(frozen=True)
class ServerTimeouts:
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    # Connections plus requests in flight beyond which uvicorn answers 503 at once;
    # the pool serves 20 statements at a time, and every request above that waits.
    limit_concurrency: int = 512

    def __post_init__(self) -> None:
        if not 0 < self.header_timeout <= 300:
            raise ServerTimeoutsError("PAYGRAPH_HEADER_TIMEOUT must be more than 0 and at most 300")
        if not 0 < self.keep_alive_timeout <= 300:
            raise ServerTimeoutsError(
                "PAYGRAPH_KEEP_ALIVE_TIMEOUT must be more than 0 and at most 300"
            )
        if self.limit_concurrency < 1:
            raise ServerTimeoutsError("PAYGRAPH_LIMIT_CONCURRENCY must be at least 1")

    @classmethod
    def from_env(cls) -> ServerTimeouts:
        return cls(
            header_timeout=env_seconds("PAYGRAPH_HEADER_TIMEOUT", 10.0, error=ServerTimeoutsError),
            keep_alive_timeout=env_seconds(
                "PAYGRAPH_KEEP_ALIVE_TIMEOUT", 5.0, error=ServerTimeoutsError
            ),
            limit_concurrency=env_int("PAYGRAPH_LIMIT_CONCURRENCY", 512, error=ServerTimeoutsError),
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for uvicorn.run / uvicorn.Config."""
        return {
            "http": partial(HeaderTimeoutProtocol, header_timeout=self.header_timeout),
            "timeout_keep_alive": self.keep_alive_timeout,
            "limit_concurrency": self.limit_concurrency,
            "server_header": False,
        }


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers do not
    arrive whole within `header_timeout` seconds (see the module doc)."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._start_header_timer()  # the first byte of the next request
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
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
