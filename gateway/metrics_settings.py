"""The /metrics settings (gateway.metrics): whether it is served, the token it asks for,
and how many operation names label its metrics; apart from prometheus-client and the
app, so that `paygraph` can check them before loading either."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.environment import SettingsError, env_flag, env_int, env_text

DEFAULT_OPERATION_LABELS = 100


class MetricsSettingsError(SettingsError):
    """A PAYGRAPH_METRICS* value is unusable."""


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = True
    # When set, /metrics asks for `Authorization: Bearer <token>`.
    token: str | None = None
    operation_labels: int = DEFAULT_OPERATION_LABELS

    @classmethod
    def from_env(cls) -> MetricsSettings:
        enabled = env_flag("PAYGRAPH_METRICS", True, error=MetricsSettingsError)
        labels = env_int(
            "PAYGRAPH_METRICS_OPERATIONS",
            DEFAULT_OPERATION_LABELS,
            minimum=0,
            maximum=10_000,
            error=MetricsSettingsError,
        )
        return cls(enabled, env_text("PAYGRAPH_METRICS_TOKEN"), labels)
