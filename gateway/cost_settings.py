"""Query cost and throttle settings: the most one operation may cost, each credential's
bucket of cost points, and the Redis that shares the buckets between instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from domain.throttle import BucketLimits
from gateway.environment import SettingsError, env_int, env_number, env_text
from schema.export_cost import EXPORT_COST

# The benchmark's dashboard page (W1) of 200 payments costs 14,002; the issue's
# 15-alias query 121,809,015.
DEFAULT_MAX_QUERY_COST = 50_000
# Two of the costliest operations back to back, then one every five seconds; a dashboard
# (whose pages are given back what they did not use) never comes near it.
DEFAULT_THROTTLE_MAXIMUM = 100_000
DEFAULT_THROTTLE_RESTORE_RATE = 10_000.0
DEFAULT_REDIS_PREFIX = "paygraph:throttle:"


class CostSettingsError(SettingsError):
    """A PAYGRAPH_MAX_QUERY_COST, PAYGRAPH_THROTTLE_* or PAYGRAPH_REDIS_* value is unusable."""


@dataclass(frozen=True)
class CostSettings:
    max_query_cost: int = DEFAULT_MAX_QUERY_COST
    throttle_maximum: int = DEFAULT_THROTTLE_MAXIMUM
    throttle_restore_rate: float = DEFAULT_THROTTLE_RESTORE_RATE
    # repr=False: a Redis URL may carry a password.
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = DEFAULT_REDIS_PREFIX

    def __post_init__(self) -> None:
        if self.max_query_cost < 1:
            raise CostSettingsError("PAYGRAPH_MAX_QUERY_COST must be at least 1")
        if self.throttle_maximum < max(self.max_query_cost, EXPORT_COST):
            # Else an operation within the limit, or an export, could never be paid for.
            raise CostSettingsError(
                "PAYGRAPH_THROTTLE_MAXIMUM must be at least PAYGRAPH_MAX_QUERY_COST "
                f"({self.max_query_cost}) and an export's cost ({EXPORT_COST})"
            )
        if not self.throttle_restore_rate > 0:
            raise CostSettingsError("PAYGRAPH_THROTTLE_RESTORE_RATE must be above 0")
        if self.redis_url is not None:
            url = urlsplit(self.redis_url)
            if url.scheme not in {"redis", "rediss", "unix"}:
                # The URL may hold a password: never echo it.
                raise CostSettingsError(
                    "PAYGRAPH_REDIS_URL must be a redis://, rediss:// or unix:// URL"
                )
        if not self.redis_prefix:
            raise CostSettingsError("PAYGRAPH_REDIS_PREFIX must not be empty")

    @property
    def limits(self) -> BucketLimits:
        return BucketLimits(self.throttle_maximum, self.throttle_restore_rate)

    @classmethod
    def from_env(cls) -> CostSettings:
        return cls(
            max_query_cost=env_int(
                "PAYGRAPH_MAX_QUERY_COST", DEFAULT_MAX_QUERY_COST, error=CostSettingsError
            ),
            throttle_maximum=env_int(
                "PAYGRAPH_THROTTLE_MAXIMUM", DEFAULT_THROTTLE_MAXIMUM, error=CostSettingsError
            ),
            throttle_restore_rate=env_number(
                "PAYGRAPH_THROTTLE_RESTORE_RATE",
                DEFAULT_THROTTLE_RESTORE_RATE,
                unit="points per second",
                error=CostSettingsError,
            ),
            redis_url=env_text("PAYGRAPH_REDIS_URL"),
            redis_prefix=env_text("PAYGRAPH_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX,
        )
