"""The exports' own budget: their connections, how long a client may stop reading, and
how many exports one credential may run at once."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.environment import SettingsError, env_int, env_seconds

MAX_CONNECTIONS = 100
MAX_SEND_TIMEOUT = 600.0


class ExportSettingsError(SettingsError):
    """A PAYGRAPH_EXPORT* value is unusable."""


@dataclass(frozen=True)
class ExportSettings:
    # The export engine's pool (apart from the GraphQL pool), and so also the number of
    # exports the process runs at once: each holds one connection while it streams.
    connections: int = 4
    # Seconds one chunk may wait on a client that stopped reading before the export is
    # cut off (its cursor closed, its connection returned).
    send_timeout: float = 30.0
    # Exports one credential may run at once, within `connections`.
    per_credential: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.connections <= MAX_CONNECTIONS:
            raise ExportSettingsError(f"PAYGRAPH_EXPORT_CONNECTIONS must be 1..{MAX_CONNECTIONS}")
        if not 0 < self.send_timeout <= MAX_SEND_TIMEOUT:
            raise ExportSettingsError(
                f"PAYGRAPH_EXPORT_SEND_TIMEOUT must be above 0 and at most "
                f"{MAX_SEND_TIMEOUT:g} seconds"
            )
        if not 1 <= self.per_credential <= self.connections:
            raise ExportSettingsError(
                "PAYGRAPH_EXPORTS_PER_CREDENTIAL must be 1..PAYGRAPH_EXPORT_CONNECTIONS"
            )

    @classmethod
    def from_env(cls) -> ExportSettings:
        connections = env_int("PAYGRAPH_EXPORT_CONNECTIONS", 4, error=ExportSettingsError)
        return cls(
            connections=connections,
            send_timeout=env_seconds(
                "PAYGRAPH_EXPORT_SEND_TIMEOUT", 30.0, error=ExportSettingsError
            ),
            per_credential=env_int(
                "PAYGRAPH_EXPORTS_PER_CREDENTIAL", min(2, connections), error=ExportSettingsError
            ),
        )
