"""How `paygraph serve` bounds its connections: a time to send the request headers, an
idle keep-alive time, a time a connection may be unable to send, and a cap on concurrent
connections and requests. gateway.timeout_protocol applies them to uvicorn; they are read
apart from it so that `paygraph` can check them before loading the server."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.environment import SettingsError, env_int, env_seconds


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
    # Seconds a connection may be unable to send (its client not reading) before it is
    # aborted. Exports cut themselves off first (PAYGRAPH_EXPORT_SEND_TIMEOUT).
    send_timeout: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.header_timeout <= 300:
            raise ServerTimeoutsError("PAYGRAPH_HEADER_TIMEOUT must be more than 0 and at most 300")
        if not 0 < self.keep_alive_timeout <= 300:
            raise ServerTimeoutsError(
                "PAYGRAPH_KEEP_ALIVE_TIMEOUT must be more than 0 and at most 300"
            )
        if not 0 < self.send_timeout <= 600:
            raise ServerTimeoutsError("PAYGRAPH_SEND_TIMEOUT must be more than 0 and at most 600")
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
            send_timeout=env_seconds("PAYGRAPH_SEND_TIMEOUT", 60.0, error=ServerTimeoutsError),
        )
