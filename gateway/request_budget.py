"""The time and bytes one GraphQL request may use: a deadline around its execution (and,
on PostgreSQL, a statement timeout just under it), and a cap on the bytes of its answer.
A request stopped by either gets its own code, in the GraphQL response shape
(gateway.budget_answers)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.environment import SettingsError, env_int, env_seconds

MAX_REQUEST_TIMEOUT = 600.0
MIN_RESPONSE_BYTES = 1024
# The database stops a statement this much before the request's own deadline, so a slow
# statement is cancelled by the server (and reported) rather than cut off mid-flight.
STATEMENT_MARGIN = 0.5


class RequestBudgetError(SettingsError):
    """A PAYGRAPH_REQUEST_TIMEOUT or PAYGRAPH_MAX_RESPONSE_BYTES value is unusable."""


@dataclass(frozen=True)
class RequestBudget:
    # Seconds a GraphQL operation may run, from parsing to its last resolver.
    request_timeout: float = 15.0
    # A dashboard page of 200 payments is ~250 kB; 8 MiB leaves room for the largest
    # page the cost limit admits without holding a client's runaway answer.
    max_response_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 0 < self.request_timeout <= MAX_REQUEST_TIMEOUT:
            raise RequestBudgetError(
                f"PAYGRAPH_REQUEST_TIMEOUT must be more than 0 and at most "
                f"{MAX_REQUEST_TIMEOUT:g} seconds"
            )
        if self.max_response_bytes < MIN_RESPONSE_BYTES:
            raise RequestBudgetError(
                f"PAYGRAPH_MAX_RESPONSE_BYTES must be at least {MIN_RESPONSE_BYTES}"
            )

    @property
    def statement_timeout(self) -> float:
        """PostgreSQL's statement_timeout for the server's connections: just under the
        deadline (half of it, for deadlines under a second)."""
        return max(self.request_timeout - STATEMENT_MARGIN, self.request_timeout / 2)

    @classmethod
    def from_env(cls) -> RequestBudget:
        return cls(
            request_timeout=env_seconds("PAYGRAPH_REQUEST_TIMEOUT", 15.0, error=RequestBudgetError),
            max_response_bytes=env_int(
                "PAYGRAPH_MAX_RESPONSE_BYTES", 8 * 1024 * 1024, error=RequestBudgetError
            ),
        )
